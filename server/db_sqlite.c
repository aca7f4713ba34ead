/*
 * db_sqlite.c — db.h over SQLite: a file in the data directory, the
 * embedded default.  SQLite speaks the store's placeholders natively; this
 * file only maps the calls.  WAL lets readers run beside the one writer,
 * synchronous=FULL makes a returned COMMIT durable, and the busy timeout
 * lets the HTTP handlers' and workers' connections wait for each other.
 */
#include "db_internal.h"

#include <sqlite3.h>
#include <stdlib.h>

typedef struct {
    dt_db base;
    sqlite3 *db;
} sqlite_db;

typedef struct {
    dt_stmt base;
    sqlite3_stmt *st;
} sqlite_stmt;

#define DB(x) (((sqlite_db *)(x))->db)
#define ST(x) (((sqlite_stmt *)(x))->st)

static void sq_close(dt_db *db)
{
    sqlite3_close_v2(DB(db));
    free(db);
}

static dt_status sq_exec(dt_db *db, const char *sql, dt_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(DB(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
        dt_error_set(err, DT_ERR_IO, "sql: %s", msg ? msg : sqlite3_errmsg(DB(db)));
        sqlite3_free(msg);
        return DT_ERR_IO;
    }
    return DT_OK;
}

static dt_db *sq_open(const char *path, dt_error *err)
{
    sqlite_db *d = calloc(1, sizeof *d);
    if (!d) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->base.ops = &dt_db_sqlite_ops;
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        dt_error_set(err, DT_ERR_IO, "cannot open database %s: %s", path,
                     d->db ? sqlite3_errmsg(d->db) : "out of memory");
        sq_close(&d->base);
        return NULL;
    }
    sqlite3_busy_timeout(d->db, 15000);
    if (sq_exec(&d->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err) != DT_OK) {
        sq_close(&d->base);
        return NULL;
    }
    return &d->base;
}

static const char *sq_errmsg(dt_db *db) { return sqlite3_errmsg(DB(db)); }
static int64_t sq_changes(dt_db *db) { return sqlite3_changes(DB(db)); }
static bool sq_in_txn(dt_db *db) { return !sqlite3_get_autocommit(DB(db)); }
static dt_status sq_begin(dt_db *db, dt_error *err) { return sq_exec(db, "BEGIN IMMEDIATE", err); }
static dt_status sq_commit(dt_db *db, dt_error *err) { return sq_exec(db, "COMMIT", err); }

static void sq_rollback(dt_db *db)
{
    /* A failed COMMIT may leave the transaction open (SQLITE_BUSY). */
    if (!sqlite3_get_autocommit(DB(db)))
        sqlite3_exec(DB(db), "ROLLBACK", NULL, NULL, NULL);
}

/* Writers take turns at BEGIN IMMEDIATE (waiting up to the busy timeout):
 * no transaction is ever aborted for a conflict that a second run would
 * pass. */
static bool sq_retryable(dt_db *db)
{
    (void)db;
    return false;
}

static dt_stmt *sq_prepare(dt_db *db, const char *sql, dt_error *err)
{
    sqlite_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->base.ops = &dt_db_sqlite_ops;
    if (sqlite3_prepare_v2(DB(db), sql, -1, &s->st, NULL) != SQLITE_OK) {
        dt_error_set(err, DT_ERR_IO, "sql: %s", sqlite3_errmsg(DB(db)));
        sqlite3_finalize(s->st);
        free(s);
        return NULL;
    }
    return &s->base;
}

static void sq_bind_int64(dt_stmt *st, int i, int64_t v) { sqlite3_bind_int64(ST(st), i, v); }
static void sq_bind_null(dt_stmt *st, int i) { sqlite3_bind_null(ST(st), i); }

static void sq_bind_text(dt_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(ST(st), i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(ST(st), i);
}

static int sq_step(dt_stmt *st)
{
    int rc = sqlite3_step(ST(st));
    return rc == SQLITE_ROW ? DT_DB_ROW : rc == SQLITE_DONE ? DT_DB_DONE : DT_DB_ERROR;
}

static int64_t sq_int64(dt_stmt *st, int col) { return sqlite3_column_int64(ST(st), col); }
static const char *sq_text(dt_stmt *st, int col) { return (const char *)sqlite3_column_text(ST(st), col); }
static bool sq_null(dt_stmt *st, int col) { return sqlite3_column_type(ST(st), col) == SQLITE_NULL; }

static void sq_reset(dt_stmt *st)
{
    sqlite3_reset(ST(st));
    sqlite3_clear_bindings(ST(st));
}

static void sq_finalize(dt_stmt *st)
{
    sqlite3_finalize(ST(st));
    free(st);
}

static dt_status sq_listen(dt_db *db, const char *channel, dt_error *err)
{
    (void)db;
    (void)channel;
    return dt_error_set(err, DT_ERR_ARG, "LISTEN needs PostgreSQL");
}

static int sq_wait_notify(dt_db *db, int timeout_ms)
{
    (void)db;
    (void)timeout_ms;
    return -1;
}

const dt_db_ops dt_db_sqlite_ops = {
    .engine = DT_DB_SQLITE,
    .open = sq_open, .close = sq_close, .exec = sq_exec, .errmsg = sq_errmsg, .changes = sq_changes,
    .in_txn = sq_in_txn, .begin = sq_begin, .commit = sq_commit, .rollback = sq_rollback, .retryable = sq_retryable,
    .prepare = sq_prepare, .bind_int64 = sq_bind_int64, .bind_text = sq_bind_text, .bind_null = sq_bind_null,
    .step = sq_step, .col_int64 = sq_int64, .col_text = sq_text, .col_null = sq_null,
    .reset = sq_reset, .finalize = sq_finalize, .listen = sq_listen, .wait_notify = sq_wait_notify,
};
