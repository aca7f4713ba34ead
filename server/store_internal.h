/*
 * store_internal.h — what the store*.c files share: the connection struct and
 * small statement helpers.  Not for use outside the store.
 */
#ifndef DT_SERVER_STORE_INTERNAL_H
#define DT_SERVER_STORE_INTERNAL_H

#include "db.h"
#include "store.h"

struct dt_store {
    dt_db *db;
    bool listening; /* LISTEN dt_jobs done on this connection */
};

/* The engine of the store's connection, for the few statements whose
 * dialects differ. */
#define DT_STORE_PG(s) (dt_db_engine((s)->db) == DT_DB_PG)

/* Prepared statement or NULL (with err set if err is non-NULL). */
dt_stmt *dt_sql_prepare(dt_store *s, const char *sql, dt_error *err);
/* Runs SQL text without results; DT_OK, or DT_ERR_IO with err set. */
dt_status dt_sql_exec(dt_store *s, const char *sql, dt_error *err);
/* DT_ERR_IO with err set to "<what>: <the engine's last message>" (never
 * overwriting a message already set), for `return dt_sql_fail(...)`. */
dt_status dt_sql_fail(dt_store *s, dt_error *err, const char *what);

/* One write transaction: BEGIN (SQLite: IMMEDIATE), body(s, ctx, err), COMMIT.  If the
 * body returns anything but DT_OK, or COMMIT fails, the transaction is rolled
 * back here — the store's one ROLLBACK — and that status is returned with err
 * set (the body's message, or the engine's).  Bodies just return on failure;
 * they must not BEGIN, COMMIT or ROLLBACK themselves.  A transaction
 * PostgreSQL aborted for a deadlock or a serialization failure is run
 * again, whole, a few times (dt_db_transaction): a body may run more than
 * once, so it starts from ctx's inputs and resets what it accumulates. */
typedef dt_status (*dt_sql_txn_body)(dt_store *s, void *ctx, dt_error *err);
dt_status dt_sql_txn(dt_store *s, dt_sql_txn_body body, void *ctx, dt_error *err);
/* dt_store_upload_create's body inside the caller's dt_sql_txn (store_tus.c
 * records the upload and finishes its tus rows in one transaction). */
dt_status dt_store_upload_create_in_txn(dt_store *s, dt_upload_new *u, dt_error *err);
/* Runs an INSERT … RETURNING <id> and finalizes it: the new row's id in
 * *id, or the failure (err set to "<what>: …"). */
dt_status dt_sql_insert_id(dt_store *s, dt_stmt *st, int64_t *id, dt_error *err, const char *what);
/* Binds text or NULL. */
void dt_sql_bind_text(dt_stmt *st, int i, const char *v);
/* Column text copied into buf (empty string for NULL). */
void dt_sql_column_copy(dt_stmt *st, int i, char *buf, size_t len);
/* A JSON string or null for a text column. */
cJSON *dt_sql_column_json(dt_stmt *st, int i);

#endif
