/*
 * db_internal.h — what db.c dispatches to: each engine (db_sqlite.c,
 * db_pg.c) fills a table of operations; a connection and a statement start
 * with the engine's table, the rest of each struct is the engine's own.
 */
#ifndef DT_SERVER_DB_INTERNAL_H
#define DT_SERVER_DB_INTERNAL_H

#include "db.h"

typedef struct dt_db_ops {
    dt_db_engine_kind engine;
    dt_db *(*open)(const char *target, dt_error *err);
    void (*close)(dt_db *db);
    dt_status (*exec)(dt_db *db, const char *sql, dt_error *err);
    const char *(*errmsg)(dt_db *db);
    int64_t (*changes)(dt_db *db);
    bool (*in_txn)(dt_db *db);
    dt_status (*begin)(dt_db *db, dt_error *err);
    dt_status (*commit)(dt_db *db, dt_error *err);
    void (*rollback)(dt_db *db);
    bool (*retryable)(dt_db *db);
    dt_stmt *(*prepare)(dt_db *db, const char *sql, dt_error *err);
    void (*bind_int64)(dt_stmt *st, int i, int64_t v);
    void (*bind_text)(dt_stmt *st, int i, const char *v);
    void (*bind_null)(dt_stmt *st, int i);
    int (*step)(dt_stmt *st);
    int64_t (*col_int64)(dt_stmt *st, int col);
    const char *(*col_text)(dt_stmt *st, int col);
    bool (*col_null)(dt_stmt *st, int col);
    void (*reset)(dt_stmt *st);
    void (*finalize)(dt_stmt *st);
    dt_status (*listen)(dt_db *db, const char *channel, dt_error *err);
    int (*wait_notify)(dt_db *db, int timeout_ms);
} dt_db_ops;

/* The first member of every engine's connection and statement struct. */
struct dt_db {
    const dt_db_ops *ops;
    int64_t retries; /* dt_db_retries; the engines count statement re-runs here too */
};
struct dt_stmt {
    const dt_db_ops *ops;
};

extern const dt_db_ops dt_db_sqlite_ops;
extern const dt_db_ops dt_db_pg_ops;

#endif
