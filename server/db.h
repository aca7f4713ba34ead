/*
 * db.h — the SQL access layer under the store: one connection and its
 * statements over either engine, SQLite (a file) or PostgreSQL (libpq), so
 * the store's SQL is written once wherever the two dialects agree.
 *
 * Statements are written with SQLite's placeholders, `?` (the next number)
 * and `?N` (number N); for PostgreSQL they are rewritten to `$N` outside
 * quoted text, so one string serves both.  Integers are bound as int8, text
 * as text (binary-safe: lengths are passed, never NUL-scanned by the server),
 * NULL untyped (the server infers it from its place).  Results are read
 * through the same calls on both engines; a PostgreSQL boolean reads as
 * 1 or 0 like SQLite's.  Where the dialects must differ (time functions,
 * case-insensitive LIKE, the job claim), the store asks dt_db_engine().
 *
 * A dt_db is one connection, used by one thread at a time.
 */
#ifndef DT_SERVER_DB_H
#define DT_SERVER_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

typedef struct dt_db dt_db;
typedef struct dt_stmt dt_stmt;

typedef enum { DT_DB_SQLITE = 1, DT_DB_PG } dt_db_engine_kind;

/* dt_stmt_step's answers. */
enum { DT_DB_ROW = 100, DT_DB_DONE = 101, DT_DB_ERROR = 1 };

/* True if target names a PostgreSQL database (postgresql:// or postgres://). */
bool dt_db_target_is_pg(const char *target);

/* Opens a SQLite file (created if missing; WAL, synchronous=FULL, foreign
 * keys on) or connects to the PostgreSQL URL.  NULL with err set on failure. */
dt_db *dt_db_open(const char *target, dt_error *err);
void dt_db_close(dt_db *db);
dt_db_engine_kind dt_db_engine(const dt_db *db);

/* Runs SQL text (one or more statements, no parameters). */
dt_status dt_db_exec(dt_db *db, const char *sql, dt_error *err);
/* The last error message of this connection ("" if none). */
const char *dt_db_errmsg(dt_db *db);
/* Rows changed by the last INSERT/UPDATE/DELETE that ran to completion. */
int64_t dt_db_changes(dt_db *db);
/* True while a transaction is open on the connection. */
bool dt_db_in_txn(dt_db *db);
/* BEGIN a write transaction (SQLite: BEGIN IMMEDIATE), COMMIT, ROLLBACK.
 * dt_db_commit fails (and the transaction is gone) if PostgreSQL rolled it
 * back because a statement in it failed. */
dt_status dt_db_begin(dt_db *db, dt_error *err);
dt_status dt_db_commit(dt_db *db, dt_error *err);
void dt_db_rollback(dt_db *db);

/* True if this connection's last failure is one the engine resolves by
 * aborting a transaction that may simply run again: PostgreSQL's
 * serialization failure (SQLSTATE 40001) or deadlock (40P01).  Sticky
 * within a transaction (the statements after the failed one fail with
 * 25P02), cleared by the next BEGIN.  Never on SQLite, whose writers take
 * turns at BEGIN IMMEDIATE. */
bool dt_db_retryable(dt_db *db);

/* One write transaction, run again when it failed in a way
 * dt_db_retryable names: BEGIN, body(ctx, err), COMMIT; on any failure
 * ROLLBACK, then — if retryable and fewer than DT_DB_TXN_ATTEMPTS runs
 * were made — err cleared, a short randomized pause (so the two sides of
 * a deadlock do not meet again), and the whole transaction once more.
 * The body may therefore run several times: it must derive everything
 * from ctx's inputs and reset whatever it accumulates there.  Returns
 * the last run's status, err set (the body's message, or the engine's). */
#define DT_DB_TXN_ATTEMPTS 5
typedef dt_status (*dt_db_txn_body)(void *ctx, dt_error *err);
dt_status dt_db_transaction(dt_db *db, dt_db_txn_body body, void *ctx, dt_error *err);
/* Transactions this connection ran again (dt_db_transaction), and
 * statements outside a transaction run again after a retryable failure. */
int64_t dt_db_retries(const dt_db *db);

/* A statement, or NULL with err (if non-NULL) set. */
dt_stmt *dt_db_prepare(dt_db *db, const char *sql, dt_error *err);
/* Parameters are numbered from 1; a parameter never bound is NULL. */
void dt_stmt_bind_int64(dt_stmt *st, int i, int64_t v);
void dt_stmt_bind_text(dt_stmt *st, int i, const char *v); /* NULL v binds NULL */
void dt_stmt_bind_null(dt_stmt *st, int i);
/* Runs the statement (first call) and moves to its next row: DT_DB_ROW,
 * DT_DB_DONE or DT_DB_ERROR (message in dt_db_errmsg). */
int dt_stmt_step(dt_stmt *st);
/* Columns of the current row, numbered from 0.  Text is valid until the
 * next step, reset or finalize; NULL for SQL NULL. */
int64_t dt_stmt_int64(dt_stmt *st, int col);
const char *dt_stmt_text(dt_stmt *st, int col);
bool dt_stmt_is_null(dt_stmt *st, int col);
/* Back to before the first step, bindings cleared, to run again. */
void dt_stmt_reset(dt_stmt *st);
void dt_stmt_finalize(dt_stmt *st);

/* PostgreSQL only (DT_ERR_ARG on SQLite): LISTEN on a channel, and wait up
 * to timeout_ms for a notification on this connection.  1 notified, 0 timed
 * out, -1 connection lost. */
dt_status dt_db_listen(dt_db *db, const char *channel, dt_error *err);
int dt_db_wait_notify(dt_db *db, int timeout_ms);

#endif
