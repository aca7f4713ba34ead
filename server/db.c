/*
 * db.c — the engine-neutral entry points of db.h: choosing the engine from
 * the target (a postgresql:// URL or a SQLite file path) and dispatching
 * every call to its table (db_internal.h).
 */
#include "db_internal.h"

#include <string.h>

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
