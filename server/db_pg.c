/*
 * db_pg.c — db.h over PostgreSQL through libpq: the store of a deployment
 * with several API servers and worker hosts (docs/server.md, "The store:
 * SQLite or PostgreSQL").
 *
 * Statements run with PQexecParams in text format: integers are sent as
 * int8, text as text with its length, NULL untyped, so the server resolves
 * the types itself and no value is ever spliced into SQL text.  The
 * store's `?`/`?N` placeholders become `$N` here (outside quotes and
 * comments), so the store writes each statement once.  Results are read
 * row by row from the PGresult; a boolean column reads as 1/0.  libpq's
 * notices are silenced: a library does not print.  A connection found
 * broken (the server restarted) is reset before the next statement that
 * is not inside a transaction; a statement outside a transaction that
 * finds the connection broken only as it runs (libpq learns of a dead
 * socket when it uses it: the usual case is a server restarted while the
 * connection sat idle, so the statement never arrived) is run once more on
 * the reset connection.  The store's writes outside transactions bear a
 * second run (upserts, or inserts of fresh random keys that would fail).
 * Likewise a statement outside a transaction that PostgreSQL aborted for
 * a deadlock or a serialization failure (SQLSTATE 40P01, 40001) runs
 * again, a few times; inside a transaction the failure is remembered
 * (dt_db_retryable) for dt_db_transaction, which runs the whole
 * transaction again.
 */
#include "db_internal.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT8_OID 20
#define TEXT_OID 25

typedef struct {
    dt_db base;
    PGconn *conn;
    int64_t changes;
    char msg[512];
    char listen_sql[300]; /* the LISTEN to repeat after a reset, or "" */
    bool conflict;        /* a 40001/40P01 since BEGIN (or in the last statement outside one) */
} pg_db;

typedef struct {
    dt_stmt base;
    pg_db *db;
    char *sql;        /* with $N placeholders */
    int nparams;
    char **values;
    int *lengths;
    unsigned *types;  /* Oid */
    PGresult *res;
    int row;          /* -1 before the first step */
    int ran;
} pg_stmt;

static void set_msg(pg_db *d, const char *m)
{
    snprintf(d->msg, sizeof d->msg, "%s", m ? m : "");
    /* libpq's messages end in a newline. */
    size_t n = strlen(d->msg);
    while (n && (d->msg[n - 1] == '\n' || d->msg[n - 1] == ' '))
        d->msg[--n] = 0;
}

/* SQLSTATE 40001 (serialization_failure) or 40P01 (deadlock_detected):
 * PostgreSQL aborted the transaction, and running it again may pass. */
static bool conflict_of(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void pg_close(dt_db *db)
{
    pg_db *d = (pg_db *)db;
    if (d->conn)
        PQfinish(d->conn);
    free(d);
}

static void ensure_connected(pg_db *d)
{
    if (PQstatus(d->conn) == CONNECTION_OK)
        return;
    PQreset(d->conn);
    /* A new session listens to nothing: listen again. */
    if (PQstatus(d->conn) == CONNECTION_OK && d->listen_sql[0])
        PQclear(PQexec(d->conn, d->listen_sql));
}

static dt_db *pg_open(const char *url, dt_error *err)
{
    pg_db *d = calloc(1, sizeof *d);
    if (!d) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->base.ops = &dt_db_pg_ops;
    d->conn = PQconnectdb(url);
    if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
        set_msg(d, d->conn ? PQerrorMessage(d->conn) : "out of memory");
        dt_error_set(err, DT_ERR_IO, "cannot connect to PostgreSQL: %s", d->msg);
        pg_close(&d->base);
        return NULL;
    }
    PQsetNoticeProcessor(d->conn, no_notices, NULL);
    return &d->base;
}

/* Outside a transaction (or with the connection already lost). */
static bool idle(pg_db *d)
{
    PGTransactionStatusType t = PQtransactionStatus(d->conn);
    return t == PQTRANS_IDLE || t == PQTRANS_UNKNOWN;
}

/* The statement failed because the connection is gone, and it ran outside
 * a transaction: reset, and it may run again. */
static bool lost_idle(pg_db *d, bool was_idle)
{
    if (!was_idle || PQstatus(d->conn) == CONNECTION_OK)
        return false;
    ensure_connected(d);
    return PQstatus(d->conn) == CONNECTION_OK;
}

/* Runs one or more statements without parameters; the last result's
 * status decides. */
static dt_status pg_exec(dt_db *db, const char *sql, dt_error *err)
{
    pg_db *d = (pg_db *)db;
    bool was_idle = idle(d);
    if (was_idle) {
        ensure_connected(d);
        d->conflict = false;
    }
    PGresult *r = PQexec(d->conn, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && lost_idle(d, was_idle)) {
        PQclear(r);
        r = PQexec(d->conn, sql);
        s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    }
    dt_status rc = DT_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        set_msg(d, r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
        if (conflict_of(r))
            d->conflict = true;
        rc = dt_error_set(err, DT_ERR_IO, "sql: %s", d->msg);
    }
    PQclear(r);
    return rc;
}

static const char *pg_errmsg(dt_db *db) { return ((pg_db *)db)->msg; }
static int64_t pg_changes(dt_db *db) { return ((pg_db *)db)->changes; }

static bool pg_in_txn(dt_db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(((pg_db *)db)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static dt_status pg_begin(dt_db *db, dt_error *err)
{
    ((pg_db *)db)->conflict = false;
    return pg_exec(db, "BEGIN", err);
}

static bool pg_retryable(dt_db *db) { return ((pg_db *)db)->conflict; }

static dt_status pg_commit(dt_db *db, dt_error *err)
{
    pg_db *d = (pg_db *)db;
    PGresult *r = PQexec(d->conn, "COMMIT");
    dt_status rc = DT_OK;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        set_msg(d, r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
        if (conflict_of(r)) /* SERIALIZABLE: the conflict may surface at COMMIT */
            d->conflict = true;
        rc = dt_error_set(err, DT_ERR_IO, "sql: %s", d->msg);
    } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        /* COMMIT of a transaction in which a statement failed answers
         * ROLLBACK without an error. */
        set_msg(d, "the transaction was rolled back");
        rc = dt_error_set(err, DT_ERR_IO, "sql: %s", d->msg);
    }
    PQclear(r);
    return rc;
}

static void pg_rollback(dt_db *db)
{
    pg_db *d = (pg_db *)db;
    if (pg_in_txn(db))
        PQclear(PQexec(d->conn, "ROLLBACK"));
}

/* `?N` -> `$N`, bare `?` -> `$(highest so far + 1)` (SQLite's numbering),
 * skipping quoted strings, quoted identifiers and comments.  Returns the
 * rewritten text (caller frees) and the highest parameter number. */
static char *translate(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    int max = 0;
    for (size_t i = 0; i < n;) {
        char c = sql[i];
        if (c == '\'' || c == '"') {
            size_t k = i + 1;
            while (k < n && !(sql[k] == c && (k + 1 >= n || sql[k + 1] != c)))
                k += sql[k] == c ? 2 : 1;
            k = k < n ? k + 1 : n;
            memcpy(out + j, sql + i, k - i);
            j += k - i;
            i = k;
        } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            size_t k = i;
            while (k < n && sql[k] != '\n')
                k++;
            memcpy(out + j, sql + i, k - i);
            j += k - i;
            i = k;
        } else if (c == '?') {
            int num = 0;
            size_t k = i + 1;
            while (k < n && sql[k] >= '0' && sql[k] <= '9' && num < 100000)
                num = num * 10 + (sql[k++] - '0');
            if (k == i + 1)
                num = max + 1;
            if (num > max)
                max = num;
            j += (size_t)sprintf(out + j, "$%d", num);
            i = k;
        } else {
            out[j++] = c;
            i++;
        }
    }
    out[j] = 0;
    *nparams = max;
    return out;
}

static dt_stmt *pg_prepare(dt_db *db, const char *sql, dt_error *err)
{
    pg_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->base.ops = &dt_db_pg_ops;
    s->db = (pg_db *)db;
    s->row = -1;
    s->sql = translate(sql, &s->nparams);
    int np = s->nparams ? s->nparams : 1;
    s->values = calloc((size_t)np, sizeof *s->values);
    s->lengths = calloc((size_t)np, sizeof *s->lengths);
    s->types = calloc((size_t)np, sizeof *s->types);
    if (!s->sql || !s->values || !s->lengths || !s->types) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        dt_stmt_finalize(&s->base);
        return NULL;
    }
    /* A parameter never bound is a NULL of type text: PostgreSQL cannot
     * infer the type of a parameter the statement does not mention. */
    for (int i = 0; i < s->nparams; i++)
        s->types[i] = TEXT_OID;
    return &s->base;
}

static void put(pg_stmt *s, int i, char *v, unsigned type)
{
    if (i < 1 || i > s->nparams) {
        free(v);
        return;
    }
    free(s->values[i - 1]);
    s->values[i - 1] = v;
    s->lengths[i - 1] = v ? (int)strlen(v) : 0;
    s->types[i - 1] = type;
}

static void pg_bind_int64(dt_stmt *st, int i, int64_t v)
{
    char *b = malloc(24);
    if (b)
        snprintf(b, 24, "%lld", (long long)v);
    put((pg_stmt *)st, i, b, INT8_OID);
}

static void pg_bind_text(dt_stmt *st, int i, const char *v)
{
    put((pg_stmt *)st, i, v ? strdup(v) : NULL, v ? TEXT_OID : 0);
}

static void pg_bind_null(dt_stmt *st, int i) { put((pg_stmt *)st, i, NULL, 0); }

static int pg_step(dt_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->ran) {
        s->ran = 1;
        pg_db *d = s->db;
        bool was_idle = idle(d);
        if (was_idle) {
            ensure_connected(d);
            d->conflict = false;
        }
        s->res = PQexecParams(d->conn, s->sql, s->nparams, s->types, (const char *const *)s->values, s->lengths,
                              NULL, 0);
        ExecStatusType t = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
        if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK && lost_idle(d, was_idle)) {
            PQclear(s->res);
            s->res = PQexecParams(d->conn, s->sql, s->nparams, s->types, (const char *const *)s->values,
                                  s->lengths, NULL, 0);
            t = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
        }
        /* A statement of its own (autocommit) that PostgreSQL aborted for a
         * deadlock or a serialization failure left nothing behind: it runs
         * again, as dt_db_transaction runs a whole transaction again. */
        for (int attempt = 1; t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK && was_idle && conflict_of(s->res)
                              && attempt < DT_DB_TXN_ATTEMPTS; attempt++) {
            d->base.retries++;
            PQclear(s->res);
            s->res = PQexecParams(d->conn, s->sql, s->nparams, s->types, (const char *const *)s->values,
                                  s->lengths, NULL, 0);
            t = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
        }
        if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
            if (conflict_of(s->res))
                d->conflict = true;
            set_msg(d, s->res ? PQresultErrorMessage(s->res) : PQerrorMessage(d->conn));
            PQclear(s->res);
            s->res = NULL;
            return DT_DB_ERROR;
        }
        const char *ct = PQcmdTuples(s->res);
        if (ct && *ct)
            d->changes = strtoll(ct, NULL, 10);
    }
    if (!s->res)
        return DT_DB_ERROR;
    s->row++;
    return s->row < PQntuples(s->res) ? DT_DB_ROW : DT_DB_DONE;
}

static bool valid(pg_stmt *s, int col)
{
    return s->res && s->row >= 0 && s->row < PQntuples(s->res) && col >= 0 && col < PQnfields(s->res);
}

static bool pgs_null(dt_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    return !valid(s, col) || PQgetisnull(s->res, s->row, col);
}

static const char *pgs_text(dt_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    return pgs_null(st, col) ? NULL : PQgetvalue(s->res, s->row, col);
}

static int64_t pgs_int64(dt_stmt *st, int col)
{
    const char *t = pgs_text(st, col);
    if (!t)
        return 0;
    if (t[0] == 't' && !t[1])
        return 1;
    if (t[0] == 'f' && !t[1])
        return 0;
    return strtoll(t, NULL, 10);
}

static void pg_reset(dt_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    PQclear(s->res);
    s->res = NULL;
    s->ran = 0;
    s->row = -1;
    for (int i = 0; i < s->nparams; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
        s->lengths[i] = 0;
        s->types[i] = TEXT_OID;
    }
}

static void pg_finalize(dt_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    if (s->values)
        for (int i = 0; i < s->nparams; i++)
            free(s->values[i]);
    PQclear(s->res);
    free(s->values);
    free(s->lengths);
    free(s->types);
    free(s->sql);
    free(s);
}

static dt_status pg_listen(dt_db *db, const char *channel, dt_error *err)
{
    pg_db *d = (pg_db *)db;
    char *id = PQescapeIdentifier(d->conn, channel, strlen(channel));
    if (!id)
        return dt_error_set(err, DT_ERR_IO, "cannot LISTEN: %s", PQerrorMessage(d->conn));
    char sql[256];
    snprintf(sql, sizeof sql, "LISTEN %s", id);
    PQfreemem(id);
    dt_status rc = pg_exec(db, sql, err);
    if (rc == DT_OK)
        snprintf(d->listen_sql, sizeof d->listen_sql, "%s", sql);
    return rc;
}

static int pg_wait_notify(dt_db *db, int timeout_ms)
{
    pg_db *d = (pg_db *)db;
    PGnotify *n;
    int got = 0;
    if (PQstatus(d->conn) != CONNECTION_OK || PQconsumeInput(d->conn) == 0) {
        ensure_connected(d);
        return -1;
    }
    while ((n = PQnotifies(d->conn))) {
        got = 1;
        PQfreemem(n);
    }
    if (got)
        return 1;
    struct pollfd p = { .fd = PQsocket(d->conn), .events = POLLIN };
    if (p.fd < 0)
        return -1;
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0)
        return r < 0 ? -1 : 0;
    if (PQconsumeInput(d->conn) == 0)
        return -1;
    while ((n = PQnotifies(d->conn))) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

const dt_db_ops dt_db_pg_ops = {
    .engine = DT_DB_PG,
    .open = pg_open, .close = pg_close, .exec = pg_exec, .errmsg = pg_errmsg, .changes = pg_changes,
    .in_txn = pg_in_txn, .begin = pg_begin, .commit = pg_commit, .rollback = pg_rollback, .retryable = pg_retryable,
    .prepare = pg_prepare, .bind_int64 = pg_bind_int64, .bind_text = pg_bind_text, .bind_null = pg_bind_null,
    .step = pg_step, .col_int64 = pgs_int64, .col_text = pgs_text, .col_null = pgs_null,
    .reset = pg_reset, .finalize = pg_finalize, .listen = pg_listen, .wait_notify = pg_wait_notify,
};
