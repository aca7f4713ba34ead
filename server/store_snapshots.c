/*
 * store_snapshots.c — see store_snapshots.h.
 *
 * One transaction: the upload is requeued only if no analysis holds it,
 * then the files are added under the caps, the reuse key grows and a job is
 * queued unless one is.  Statements are prepared with bound values (their
 * row counts decide), in SQL that SQLite and PostgreSQL both read.
 */
#include "store_snapshots.h"

#include <stdio.h>
#include <string.h>

#include "secrets.h"
#include "store_internal.h"

static bool is_hex64(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == 64 && s[n] == '\0';
}

/* Runs a prepared write; its row count in *changed. */
static dt_status run(dt_store *s, dt_stmt *st, int64_t *changed, dt_error *err, const char *what)
{
    int rc = st ? dt_stmt_step(st) : DT_DB_ERROR;
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return dt_sql_fail(s, err, what);
    if (changed)
        *changed = dt_db_changes(s->db);
    return DT_OK;
}

typedef struct {
    int64_t seq;
    const dt_file_rec *files;
    int n;
    int max_users;
    dt_snapshots_outcome outcome;
} snapshots_ctx;

static dt_status snapshots_body(dt_store *s, void *vctx, dt_error *err)
{
    snapshots_ctx *c = vctx;
    c->outcome = DT_SNAPSHOTS_ADDED; /* the body may run again (dt_sql_txn) */
    char key[1400] = "";
    size_t klen = 0;
    int64_t changed = 0, now = dt_now();
    /* First, and conditional: the upload is requeued only if no analysis
     * holds it.  The status check and the writes below are one transaction
     * and this UPDATE is its first write: SQLite's BEGIN IMMEDIATE excludes
     * a lease meanwhile, and on PostgreSQL the UPDATE locks the upload's
     * row, so a lease (which marks the upload analyzing, then reads its
     * files) either committed before — this matches no row — or waits for
     * this commit and then takes the files added here.  Checked apart, an
     * analysis could start between the check and the insert, and a second
     * job of the upload be queued beside the running one. */
    dt_stmt *st = dt_sql_prepare(s, "UPDATE uploads SET status = 'queued', error = NULL, reused_from = NULL,"
                                    " updated_at = ? WHERE seq = ? AND status <> 'analyzing'", err);
    if (st) {
        dt_stmt_bind_int64(st, 1, now);
        dt_stmt_bind_int64(st, 2, c->seq);
    }
    if (run(s, st, &changed, err, "cannot requeue the upload") != DT_OK)
        return DT_ERR_IO;
    if (changed != 1) {
        c->outcome = DT_SNAPSHOTS_ANALYZING;
        return dt_error_set(err, DT_ERR_ARG, "the upload is being analysed");
    }
    for (int i = 0; i < c->n; i++) {
        const dt_file_rec *f = &c->files[i];
        if ((strcmp(f->role, "user") != 0 && strcmp(f->role, "kernel") != 0) || !is_hex64(f->sha256))
            return dt_error_set(err, DT_ERR_ARG, "a snapshot is a user dump or a kernel dump");
        /* The cap holds whatever runs concurrently: the count is taken in
         * the same statement, with the upload's row locked above. */
        st = dt_sql_prepare(s, "INSERT INTO files(upload_seq, role, sha256, size, kind, name)"
                               " SELECT ?, ?, ?, ?, ?, ?"
                               " WHERE (SELECT COUNT(*) FROM files WHERE upload_seq = ? AND role = ?) < ?", err);
        if (st) {
            dt_stmt_bind_int64(st, 1, c->seq);
            dt_stmt_bind_text(st, 2, f->role);
            dt_stmt_bind_text(st, 3, f->sha256);
            dt_stmt_bind_int64(st, 4, (int64_t)f->size);
            dt_stmt_bind_text(st, 5, f->kind);
            dt_stmt_bind_text(st, 6, f->name[0] ? f->name : NULL);
            dt_stmt_bind_int64(st, 7, c->seq);
            dt_stmt_bind_text(st, 8, f->role);
            dt_stmt_bind_int64(st, 9, c->max_users);
        }
        if (run(s, st, &changed, err, "cannot record a snapshot") != DT_OK)
            return DT_ERR_IO;
        if (changed != 1) {
            c->outcome = DT_SNAPSHOTS_FULL;
            return dt_error_set(err, DT_ERR_ARG, "the series is full");
        }
        if (klen < sizeof key)
            klen += (size_t)snprintf(key + klen, sizeof key - klen, "%s:%s;", f->role, f->sha256);
    }
    /* The upload's content changed: its reuse key names the new files too,
     * and the report it had is replaced by the series' when the analysis
     * ends (as for a reanalysis, the old one is shown until then). */
    st = dt_sql_prepare(s, "UPDATE uploads SET pair_key = pair_key || ? WHERE seq = ?", err);
    if (st) {
        dt_stmt_bind_text(st, 1, key);
        dt_stmt_bind_int64(st, 2, c->seq);
    }
    if (run(s, st, NULL, err, "cannot requeue the upload") != DT_OK)
        return DT_ERR_IO;
    /* A job already queued reads the files when it is leased: it takes the
     * new ones too. */
    st = dt_sql_prepare(s, "INSERT INTO jobs(upload_seq, state, created_at) SELECT ?, 'queued', ?"
                           " WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE upload_seq = ? AND state = 'queued')", err);
    if (st) {
        dt_stmt_bind_int64(st, 1, c->seq);
        dt_stmt_bind_int64(st, 2, now);
        dt_stmt_bind_int64(st, 3, c->seq);
    }
    return run(s, st, NULL, err, "cannot queue the analysis");
}

dt_status dt_store_snapshots_add(dt_store *s, int64_t seq, const dt_file_rec *files, int n, int max_users,
                                 dt_snapshots_outcome *outcome, dt_error *err)
{
    snapshots_ctx c = { seq, files, n, max_users, DT_SNAPSHOTS_ADDED };
    dt_status st = dt_sql_txn(s, snapshots_body, &c, err);
    *outcome = c.outcome;
    /* A refusal rolled everything back: an answer, not a failure. */
    return c.outcome != DT_SNAPSHOTS_ADDED ? DT_OK : st;
}
