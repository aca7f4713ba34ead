/*
 * store_internal.h — what the store*.c files share: the connection struct and
 * small statement helpers.  Not for use outside the store.
 */
#ifndef DT_SERVER_STORE_INTERNAL_H
#define DT_SERVER_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

struct dt_store {
    sqlite3 *db;
};

/* Prepared statement or NULL (with err set if err is non-NULL). */
sqlite3_stmt *dt_sql_prepare(dt_store *s, const char *sql, dt_error *err);
/* Runs SQL text without results; DT_OK, or DT_ERR_IO with err set. */
dt_status dt_sql_exec(dt_store *s, const char *sql, dt_error *err);
/* DT_ERR_IO with err set to "<what>: <SQLite's last message>" (never
 * overwriting a message already set), for `return dt_sql_fail(...)`. */
dt_status dt_sql_fail(dt_store *s, dt_error *err, const char *what);

/* One write transaction: BEGIN IMMEDIATE, body(s, ctx, err), COMMIT.  If the
 * body returns anything but DT_OK, or COMMIT fails, the transaction is rolled
 * back here — the store's one ROLLBACK — and that status is returned with err
 * set (the body's message, or SQLite's).  Bodies just return on failure;
 * they must not BEGIN, COMMIT or ROLLBACK themselves. */
typedef dt_status (*dt_sql_txn_body)(dt_store *s, void *ctx, dt_error *err);
dt_status dt_sql_txn(dt_store *s, dt_sql_txn_body body, void *ctx, dt_error *err);
/* dt_store_upload_create's body inside the caller's dt_sql_txn (store_tus.c
 * records the upload and finishes its tus rows in one transaction). */
dt_status dt_store_upload_create_in_txn(dt_store *s, dt_upload_new *u, dt_error *err);
/* Binds text or NULL. */
void dt_sql_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Column text copied into buf (empty string for NULL). */
void dt_sql_column_copy(sqlite3_stmt *st, int i, char *buf, size_t len);
/* A JSON string or null for a text column. */
cJSON *dt_sql_column_json(sqlite3_stmt *st, int i);

#endif
