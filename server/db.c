/*
 * db.c — the engine-neutral entry points of db.h: choosing the engine from
 * the target (a postgresql:// URL or a SQLite file path) and dispatching
 * every call to its table (db_internal.h) — and running a transaction,
 * retried when the engine aborted it for a conflict (dt_db_transaction).
 */
#include "db_internal.h"

#include <string.h>
#include <time.h>

bool dt_db_target_is_pg(const char *target)
{
    return target && (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0);
}

dt_db *dt_db_open(const char *target, dt_error *err)
{
    const dt_db_ops *ops = dt_db_target_is_pg(target) ? &dt_db_pg_ops : &dt_db_sqlite_ops;
    return ops->open(target, err);
}

void dt_db_close(dt_db *db)
{
    if (db)
        db->ops->close(db);
}

dt_db_engine_kind dt_db_engine(const dt_db *db) { return db->ops->engine; }
dt_status dt_db_exec(dt_db *db, const char *sql, dt_error *err) { return db->ops->exec(db, sql, err); }
const char *dt_db_errmsg(dt_db *db) { return db->ops->errmsg(db); }
int64_t dt_db_changes(dt_db *db) { return db->ops->changes(db); }
bool dt_db_in_txn(dt_db *db) { return db->ops->in_txn(db); }
dt_status dt_db_begin(dt_db *db, dt_error *err) { return db->ops->begin(db, err); }
dt_status dt_db_commit(dt_db *db, dt_error *err) { return db->ops->commit(db, err); }
void dt_db_rollback(dt_db *db) { db->ops->rollback(db); }
dt_stmt *dt_db_prepare(dt_db *db, const char *sql, dt_error *err) { return db->ops->prepare(db, sql, err); }
void dt_stmt_bind_int64(dt_stmt *st, int i, int64_t v) { st->ops->bind_int64(st, i, v); }
void dt_stmt_bind_text(dt_stmt *st, int i, const char *v) { st->ops->bind_text(st, i, v); }
void dt_stmt_bind_null(dt_stmt *st, int i) { st->ops->bind_null(st, i); }
int dt_stmt_step(dt_stmt *st) { return st ? st->ops->step(st) : DT_DB_ERROR; }
int64_t dt_stmt_int64(dt_stmt *st, int col) { return st->ops->col_int64(st, col); }
const char *dt_stmt_text(dt_stmt *st, int col) { return st->ops->col_text(st, col); }
bool dt_stmt_is_null(dt_stmt *st, int col) { return st->ops->col_null(st, col); }
void dt_stmt_reset(dt_stmt *st) { st->ops->reset(st); }

void dt_stmt_finalize(dt_stmt *st)
{
    if (st)
        st->ops->finalize(st);
}

dt_status dt_db_listen(dt_db *db, const char *channel, dt_error *err) { return db->ops->listen(db, channel, err); }
int dt_db_wait_notify(dt_db *db, int timeout_ms) { return db->ops->wait_notify(db, timeout_ms); }

bool dt_db_retryable(dt_db *db) { return db->ops->retryable(db); }
int64_t dt_db_retries(const dt_db *db) { return db->retries; }

/* Sleeps 2^attempt ms plus up to as much again at random (from the clock's
 * nanoseconds: no shared generator state), so two transactions that
 * deadlocked do not start again in the same step. */
static void backoff(int attempt)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long base_ms = 1L << (attempt < 8 ? attempt : 8);
    long ns = base_ms * 1000000L + (long)((unsigned long)now.tv_nsec % (unsigned long)(base_ms * 1000000L));
    struct timespec d = { ns / 1000000000L, ns % 1000000000L };
    nanosleep(&d, NULL);
}

dt_status dt_db_transaction(dt_db *db, dt_db_txn_body body, void *ctx, dt_error *err)
{
    dt_status rc = DT_OK;
    for (int attempt = 1;; attempt++) {
        rc = dt_db_begin(db, err);
        if (rc != DT_OK)
            return rc;
        rc = body(ctx, err);
        if (rc == DT_OK)
            rc = dt_db_commit(db, err);
        if (rc == DT_OK)
            return DT_OK;
        bool again = dt_db_retryable(db) && attempt < DT_DB_TXN_ATTEMPTS;
        /* Roll back in every failure case so the connection is reusable. */
        dt_db_rollback(db);
        if (!again)
            break;
        db->retries++;
        if (err) {
            err->code = DT_OK;
            err->message[0] = 0;
        }
        backoff(attempt);
    }
    if (err && !err->message[0])
        dt_error_set(err, rc, "transaction failed: %s", dt_db_errmsg(db));
    return rc;
}
