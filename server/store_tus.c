/*
 * store_tus.c — every SQL statement about resumable (tus) uploads: the
 * rows of migrations/007_tus.sql (see store_tus.h).  Finishing a case
 * upload records the normal upload and marks its tus rows finished in one
 * transaction, so a crash between the two cannot create it twice.
 */
#include "store_tus.h"

#include <stdio.h>
#include <string.h>

#include "store_internal.h"

#define ROW_COLUMNS                                                                                              \
    "seq, id, owner_token_id, owner_key, length, \"offset\", metadata, name, note, case_id, customer, grp,"          \
    " group_files, state, sha256, kind, role, upload_id, view_key, created_at, updated_at, expires_at"

static void read_row(dt_stmt *st, dt_tus_row *r)
{
    memset(r, 0, sizeof *r);
    r->seq = dt_stmt_int64(st, 0);
    dt_sql_column_copy(st, 1, r->id, sizeof r->id);
    r->owner_token_id = dt_stmt_int64(st, 2);
    dt_sql_column_copy(st, 3, r->owner_key, sizeof r->owner_key);
    r->length = dt_stmt_is_null(st, 4) ? -1 : dt_stmt_int64(st, 4);
    r->offset = (uint64_t)dt_stmt_int64(st, 5);
    dt_sql_column_copy(st, 6, r->metadata, sizeof r->metadata);
    dt_sql_column_copy(st, 7, r->name, sizeof r->name);
    dt_sql_column_copy(st, 8, r->note, sizeof r->note);
    dt_sql_column_copy(st, 9, r->case_id, sizeof r->case_id);
    dt_sql_column_copy(st, 10, r->customer, sizeof r->customer);
    dt_sql_column_copy(st, 11, r->grp, sizeof r->grp);
    r->group_files = (int)dt_stmt_int64(st, 12);
    dt_sql_column_copy(st, 13, r->state, sizeof r->state);
    dt_sql_column_copy(st, 14, r->sha256, sizeof r->sha256);
    dt_sql_column_copy(st, 15, r->kind, sizeof r->kind);
    dt_sql_column_copy(st, 16, r->role, sizeof r->role);
    dt_sql_column_copy(st, 17, r->upload_id, sizeof r->upload_id);
    dt_sql_column_copy(st, 18, r->view_key, sizeof r->view_key);
    r->created_at = dt_stmt_int64(st, 19);
    r->updated_at = dt_stmt_int64(st, 20);
    r->expires_at = dt_stmt_int64(st, 21);
}

static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

dt_status dt_store_tus_create(dt_store *s, dt_tus_row *row, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "INSERT INTO tus_uploads(id, owner_token_id, owner_key, length, \"offset\","
                                         " metadata, name, note, case_id, customer, grp, group_files, state,"
                                         " created_at, updated_at, expires_at)"
                                         " VALUES (?,?,?,?,0,?,?,?,?,?,?,?,'receiving',?,?,?) RETURNING seq", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, row->id);
    if (row->owner_token_id > 0)
        dt_stmt_bind_int64(st, 2, row->owner_token_id);
    else
        dt_stmt_bind_null(st, 2);
    dt_sql_bind_text(st, 3, row->owner_key);
    if (row->length >= 0)
        dt_stmt_bind_int64(st, 4, row->length);
    else
        dt_stmt_bind_null(st, 4);
    dt_sql_bind_text(st, 5, row->metadata);
    dt_sql_bind_text(st, 6, or_null(row->name));
    dt_sql_bind_text(st, 7, or_null(row->note));
    dt_sql_bind_text(st, 8, or_null(row->case_id));
    dt_sql_bind_text(st, 9, or_null(row->customer));
    dt_sql_bind_text(st, 10, row->grp);
    dt_stmt_bind_int64(st, 11, row->group_files);
    dt_stmt_bind_int64(st, 12, row->created_at);
    dt_stmt_bind_int64(st, 13, row->updated_at);
    dt_stmt_bind_int64(st, 14, row->expires_at);
    if (dt_sql_insert_id(s, st, &row->seq, err, "cannot record the resumable upload") != DT_OK)
        return DT_ERR_IO;
    snprintf(row->state, sizeof row->state, "receiving");
    return DT_OK;
}

int dt_store_tus_get(dt_store *s, const char *id, dt_tus_row *out)
{
    if (!id || strlen(id) > 32)
        return 0;
    dt_stmt *st = dt_sql_prepare(s, "SELECT " ROW_COLUMNS " FROM tus_uploads WHERE id = ?", NULL);
    if (!st)
        return -1;
    dt_sql_bind_text(st, 1, id);
    int rc = dt_stmt_step(st);
    int found = rc == DT_DB_ROW ? 1 : rc == DT_DB_DONE ? 0 : -1;
    if (found == 1)
        read_row(st, out);
    dt_stmt_finalize(st);
    return found;
}

dt_status dt_store_tus_set_offset(dt_store *s, const char *id, uint64_t offset, int64_t length, int64_t now,
                                  int64_t expires_at, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "UPDATE tus_uploads SET \"offset\" = ?, length = COALESCE(length, ?),"
                                         " updated_at = ?, expires_at = ? WHERE id = ? AND state = 'receiving'",
                                      err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, (int64_t)offset);
    if (length >= 0)
        dt_stmt_bind_int64(st, 2, length);
    else
        dt_stmt_bind_null(st, 2);
    dt_stmt_bind_int64(st, 3, now);
    dt_stmt_bind_int64(st, 4, expires_at);
    dt_sql_bind_text(st, 5, id);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_sql_fail(s, err, "cannot record the upload offset");
    if (dt_db_changes(s->db) != 1)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "the upload is gone");
    return DT_OK;
}

dt_status dt_store_tus_complete(dt_store *s, const char *id, const char *sha256, const char *kind, const char *role,
                                dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "UPDATE tus_uploads SET state = 'complete', sha256 = ?, kind = ?, role = ?"
                                         " WHERE id = ? AND state = 'receiving'", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, sha256);
    dt_sql_bind_text(st, 2, kind);
    dt_sql_bind_text(st, 3, role);
    dt_sql_bind_text(st, 4, id);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, "cannot record the completed upload");
}

int dt_store_tus_group(dt_store *s, int64_t owner_token_id, const char *grp, dt_tus_row *rows, int max)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT " ROW_COLUMNS " FROM tus_uploads WHERE COALESCE(owner_token_id, 0) = ?"
                                         " AND grp = ? ORDER BY seq", NULL);
    if (!st)
        return -1;
    dt_stmt_bind_int64(st, 1, owner_token_id);
    dt_sql_bind_text(st, 2, grp);
    int n = 0, rc;
    while ((rc = dt_stmt_step(st)) == DT_DB_ROW) {
        if (n < max)
            read_row(st, &rows[n]);
        n++;
    }
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? n : -1;
}

typedef struct {
    dt_upload_new *u;
    int64_t owner;
    const char *grp;
    int nrows;
} finish_ctx;

static dt_status finish_body(dt_store *s, void *ctx, dt_error *err)
{
    finish_ctx *c = ctx;
    dt_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*) FROM tus_uploads WHERE COALESCE(owner_token_id, 0) = ?"
                                         " AND grp = ? AND state = 'complete'", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->owner);
    dt_sql_bind_text(st, 2, c->grp);
    int complete = dt_stmt_step(st) == DT_DB_ROW ? (int)dt_stmt_int64(st, 0) : -1;
    dt_stmt_finalize(st);
    if (complete != c->nrows)
        return dt_error_set(err, DT_ERR_ARG, "the case upload was finished meanwhile");
    dt_status rc = dt_store_upload_create_in_txn(s, c->u, err);
    if (rc != DT_OK)
        return rc;
    st = dt_sql_prepare(s, "UPDATE tus_uploads SET state = 'finished', upload_id = ?, view_key = ?"
                           " WHERE COALESCE(owner_token_id, 0) = ? AND grp = ? AND state = 'complete'", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->u->id);
    dt_sql_bind_text(st, 2, c->u->view_key);
    dt_stmt_bind_int64(st, 3, c->owner);
    dt_sql_bind_text(st, 4, c->grp);
    int src = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return src == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, "cannot finish the resumable uploads");
}

dt_status dt_store_tus_finish_group(dt_store *s, dt_upload_new *u, int64_t owner_token_id, const char *grp,
                                    int nrows, dt_error *err)
{
    finish_ctx c = { u, owner_token_id, grp, nrows };
    return dt_sql_txn(s, finish_body, &c, err);
}

void dt_store_tus_delete(dt_store *s, const char *id)
{
    dt_stmt *st = dt_sql_prepare(s, "DELETE FROM tus_uploads WHERE id = ?", NULL);
    if (!st)
        return;
    dt_sql_bind_text(st, 1, id);
    dt_stmt_step(st);
    dt_stmt_finalize(st);
}

void dt_store_tus_usage(dt_store *s, const char *owner_key, int64_t *count, int64_t *bytes)
{
    *count = *bytes = 0;
    dt_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*), COALESCE(SUM(COALESCE(length, \"offset\")), 0)"
                                         " FROM tus_uploads WHERE owner_key = ? AND state != 'finished'", NULL);
    if (!st)
        return;
    dt_sql_bind_text(st, 1, owner_key);
    if (dt_stmt_step(st) == DT_DB_ROW) {
        *count = dt_stmt_int64(st, 0);
        *bytes = dt_stmt_int64(st, 1);
    }
    dt_stmt_finalize(st);
}

int dt_store_tus_expired(dt_store *s, int64_t now, char (*ids)[33], int max)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT id FROM tus_uploads WHERE expires_at <= ? ORDER BY expires_at"
                                         " LIMIT ?", NULL);
    if (!st)
        return 0;
    dt_stmt_bind_int64(st, 1, now);
    dt_stmt_bind_int64(st, 2, max);
    int n = 0;
    while (n < max && dt_stmt_step(st) == DT_DB_ROW)
        dt_sql_column_copy(st, 0, ids[n++], 33);
    dt_stmt_finalize(st);
    return n;
}
