/*
 * store_jobs.c — owns the analysis queue in the store: leasing (in turns
 * between submitters), results, failures, retries, recovery after the
 * server died, the per-submitter queue count, plus the store-derived
 * metrics.
 *
 * A job is leased for a bounded time (the analysis timeout plus slack).  Its
 * result is accepted only while the job is still leased, in the same
 * transaction that stores the report, so a job requeued after a crash (or
 * deleted meanwhile) can never be completed twice.
 *
 * Attempts are counted when the job is leased, before any work starts, so
 * an attempt that kills the server is counted too.  A result or failure
 * counts only from the lease's holder (lease_owner): a worker whose lease
 * ran out while it still worked (hung, cut off from the database) cannot
 * complete the job another worker now holds.  The same holds for every
 * change a worker makes to its job after the claim — its phase, files
 * found in an archive, a requeue at drain, a failure, the result: each is
 * conditional on the job being leased by that owner, in the statement or
 * transaction that makes it.  Holders renew their lease with
 * dt_store_job_heartbeat.  Every write of more
 * than one statement goes through dt_sql_txn (store_internal.h).
 */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

static dt_status step_done(dt_store *s, dt_stmt *st, dt_error *err, const char *what)
{
    int rc = st ? dt_stmt_step(st) : DT_DB_ERROR;
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_sql_fail(s, err, what);
}

static dt_status load_files(dt_store *s, int64_t seq, dt_job *out, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT role, sha256, size, kind, name FROM files WHERE upload_seq = ?"
                                         " ORDER BY id", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, seq);
    out->nfiles = 0;
    while (dt_stmt_step(st) == DT_DB_ROW && out->nfiles < DT_MAX_UPLOAD_FILES) {
        dt_file_rec *f = &out->files[out->nfiles++];
        dt_sql_column_copy(st, 0, f->role, sizeof f->role);
        dt_sql_column_copy(st, 1, f->sha256, sizeof f->sha256);
        f->size = (uint64_t)dt_stmt_int64(st, 2);
        dt_sql_column_copy(st, 3, f->kind, sizeof f->kind);
        dt_sql_column_copy(st, 4, f->name, sizeof f->name);
    }
    dt_stmt_finalize(st);
    return DT_OK;
}

typedef struct {
    const char *owner;
    int64_t lease_seconds;
    dt_job *out;
    bool found;
} lease_ctx;

static dt_status lease_body(dt_store *s, void *vctx, dt_error *err)
{
    lease_ctx *c = vctx;
    dt_job *out = c->out;
    /* Fair turns: the oldest job of the submitter with the fewest jobs
     * being analyzed now, so a client with hundreds queued does not hold
     * every worker while another client's single upload waits. */
    /* PostgreSQL: several workers (processes, hosts) lease at once; each
     * locks the job it takes and passes over jobs another has locked, so
     * no two lease the same job and none waits for another.  SQLite's
     * BEGIN IMMEDIATE already makes leasing one writer at a time. */
    dt_stmt *st = dt_sql_prepare(s, DT_STORE_PG(s)
        ? "SELECT j.id, j.upload_seq, j.attempts, u.id, u.note FROM jobs j"
          " JOIN uploads u ON u.seq = j.upload_seq WHERE j.state = 'queued'"
          " ORDER BY (SELECT COUNT(*) FROM jobs l WHERE l.submitter IS NOT DISTINCT FROM j.submitter"
          " AND l.state = 'leased'), j.id LIMIT 1 FOR UPDATE OF j SKIP LOCKED"
        : "SELECT j.id, j.upload_seq, j.attempts, u.id, u.note FROM jobs j"
          " JOIN uploads u ON u.seq = j.upload_seq WHERE j.state = 'queued'"
          " ORDER BY (SELECT COUNT(*) FROM jobs l WHERE l.submitter IS j.submitter"
          " AND l.state = 'leased'), j.id LIMIT 1", err);
    if (!st)
        return DT_ERR_IO;
    c->found = dt_stmt_step(st) == DT_DB_ROW;
    if (c->found) {
        out->job_id = dt_stmt_int64(st, 0);
        out->upload_seq = dt_stmt_int64(st, 1);
        out->attempts = (int)dt_stmt_int64(st, 2) + 1;
        dt_sql_column_copy(st, 3, out->upload_id, sizeof out->upload_id);
        dt_sql_column_copy(st, 4, out->note, sizeof out->note);
    }
    dt_stmt_finalize(st);
    if (!c->found)
        return DT_OK;
    snprintf(out->owner, sizeof out->owner, "%s", c->owner);
    int64_t now = dt_now();
    st = dt_sql_prepare(s, "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_owner = ?,"
                           " lease_expires = ?, started_at = ?, phase = NULL WHERE id = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->owner);
    dt_stmt_bind_int64(st, 2, now + c->lease_seconds);
    dt_stmt_bind_int64(st, 3, now);
    dt_stmt_bind_int64(st, 4, out->job_id);
    if (step_done(s, st, err, "cannot lease job") != DT_OK)
        return DT_ERR_IO;
    st = dt_sql_prepare(s, "UPDATE uploads SET status = 'analyzing', updated_at = ? WHERE seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, now);
    dt_stmt_bind_int64(st, 2, out->upload_seq);
    if (step_done(s, st, err, "cannot mark upload analyzing") != DT_OK)
        return DT_ERR_IO;
    return load_files(s, out->upload_seq, out, err);
}

int dt_store_job_lease(dt_store *s, const char *owner, int64_t lease_seconds, dt_job *out)
{
    memset(out, 0, sizeof *out);
    lease_ctx c = { owner, lease_seconds, out, false };
    if (dt_sql_txn(s, lease_body, &c, NULL) != DT_OK)
        return -1;
    return c.found ? 1 : 0;
}

int dt_store_job_heartbeat(dt_store *s, int64_t job_id, const char *owner, int64_t lease_seconds)
{
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET lease_expires = ? WHERE id = ? AND state = 'leased'"
                                    " AND lease_owner = ?", NULL);
    if (!st)
        return -1;
    dt_stmt_bind_int64(st, 1, dt_now() + lease_seconds);
    dt_stmt_bind_int64(st, 2, job_id);
    dt_sql_bind_text(st, 3, owner);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    if (rc != DT_DB_DONE)
        return -1;
    return dt_db_changes(s->db) == 1 ? 1 : 0;
}

int dt_store_wait_for_jobs(dt_store *s, int timeout_ms)
{
    if (!DT_STORE_PG(s))
        return -1;
    if (!s->listening) {
        if (dt_db_listen(s->db, "dt_jobs", NULL) != DT_OK)
            return -1;
        s->listening = true;
    }
    /* After a lost connection db_pg.c reconnects and listens again. */
    return dt_db_wait_notify(s->db, timeout_ms);
}

/* Inside a transaction: true if owner still holds the job.  An UPDATE, not
 * a SELECT, so that on PostgreSQL the row stays locked until the commit: a
 * concurrent requeue of the expired lease waits for this transaction
 * instead of slipping in between the check and the writes after it
 * (SQLite's BEGIN IMMEDIATE already excludes it). */
static dt_status hold_lease(dt_store *s, const dt_job *job, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET lease_owner = lease_owner WHERE id = ? AND state = 'leased'"
                                    " AND lease_owner = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, job->job_id);
    dt_sql_bind_text(st, 2, job->owner);
    if (step_done(s, st, err, "cannot check the lease") != DT_OK)
        return DT_ERR_IO;
    if (dt_db_changes(s->db) != 1)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "job %lld is no longer leased by %s", (long long)job->job_id,
                            job->owner);
    return DT_OK;
}

typedef struct {
    const dt_job *job;
    const dt_file_rec *files;
    int n;
} add_files_ctx;

static dt_status add_files_body(dt_store *s, void *vctx, dt_error *err)
{
    const add_files_ctx *c = vctx;
    dt_status held = hold_lease(s, c->job, err);
    if (held != DT_OK)
        return held;
    for (int i = 0; i < c->n; i++) {
        dt_stmt *st = dt_sql_prepare(s, "INSERT INTO files(upload_seq, role, sha256, size, kind, name)"
                                             " SELECT ?1,?2,?3,?4,?5,?6 WHERE NOT EXISTS"
                                             " (SELECT 1 FROM files WHERE upload_seq = ?1 AND role = ?2)", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, c->job->upload_seq);
        dt_sql_bind_text(st, 2, c->files[i].role);
        dt_sql_bind_text(st, 3, c->files[i].sha256);
        dt_stmt_bind_int64(st, 4, (int64_t)c->files[i].size);
        dt_sql_bind_text(st, 5, c->files[i].kind);
        dt_sql_bind_text(st, 6, c->files[i].name[0] ? c->files[i].name : NULL);
        if (step_done(s, st, err, "cannot record archive files") != DT_OK)
            return DT_ERR_IO;
    }
    return DT_OK;
}

dt_status dt_store_job_add_files(dt_store *s, const dt_job *job, const dt_file_rec *files, int n, dt_error *err)
{
    add_files_ctx c = { job, files, n };
    return dt_sql_txn(s, add_files_body, &c, err);
}

typedef struct {
    const dt_job *job;
    const char *json;
    const dt_report_index *idx;
    int64_t duration_ms;
} finish_ctx;

static dt_status finish_body(dt_store *s, void *vctx, dt_error *err)
{
    const finish_ctx *c = vctx;
    const dt_job *job = c->job;
    const dt_report_index *idx = c->idx;
    int64_t now = dt_now();
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET state = 'done', finished_at = ?, error = NULL,"
                                         " error_class = NULL, lease_owner = NULL, phase = NULL"
                                         " WHERE id = ? AND state = 'leased' AND lease_owner = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, now);
    dt_stmt_bind_int64(st, 2, job->job_id);
    dt_sql_bind_text(st, 3, job->owner);
    if (step_done(s, st, err, "cannot store report") != DT_OK)
        return DT_ERR_IO;
    if (dt_db_changes(s->db) != 1)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "job %lld is no longer leased", (long long)job->job_id);
    st = dt_sql_prepare(s, "INSERT INTO reports(json, process, pid, bugcheck, verdict, signature, thread_count,"
                           " search_text, duration_ms, created_at) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->json);
    dt_sql_bind_text(st, 2, idx->process);
    if (idx->has_pid)
        dt_stmt_bind_int64(st, 3, idx->pid);
    else
        dt_stmt_bind_null(st, 3);
    dt_sql_bind_text(st, 4, idx->bugcheck);
    dt_sql_bind_text(st, 5, idx->verdict);
    dt_sql_bind_text(st, 6, idx->signature);
    if (idx->thread_count >= 0)
        dt_stmt_bind_int64(st, 7, idx->thread_count);
    else
        dt_stmt_bind_null(st, 7);
    dt_sql_bind_text(st, 8, idx->search_text ? idx->search_text : "");
    dt_stmt_bind_int64(st, 9, c->duration_ms);
    dt_stmt_bind_int64(st, 10, now);
    int64_t report_id = 0;
    if (dt_sql_insert_id(s, st, &report_id, err, "cannot store report") != DT_OK)
        return DT_ERR_IO;
    for (size_t i = 0; i < idx->nthreads; i++) {
        const dt_thread_row *t = &idx->threads[i];
        st = dt_sql_prepare(s, "INSERT INTO threads(report_id, thread_id, name, state, verdict, stuck,"
                               " top_frame) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, report_id);
        dt_stmt_bind_int64(st, 2, t->thread_id);
        dt_sql_bind_text(st, 3, t->name);
        dt_sql_bind_text(st, 4, t->state);
        dt_sql_bind_text(st, 5, t->verdict);
        if (t->stuck >= 0)
            dt_stmt_bind_int64(st, 6, t->stuck);
        else
            dt_stmt_bind_null(st, 6);
        dt_sql_bind_text(st, 7, t->top_frame);
        if (step_done(s, st, err, "cannot store thread rows") != DT_OK)
            return DT_ERR_IO;
    }
    int64_t old_report = 0;
    st = dt_sql_prepare(s, "SELECT report_id FROM uploads WHERE seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, job->upload_seq);
    if (dt_stmt_step(st) == DT_DB_ROW)
        old_report = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    st = dt_sql_prepare(s, "UPDATE uploads SET status = 'done', error = NULL, report_id = ?, updated_at = ?"
                           " WHERE seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, report_id);
    dt_stmt_bind_int64(st, 2, now);
    dt_stmt_bind_int64(st, 3, job->upload_seq);
    if (step_done(s, st, err, "cannot mark upload done") != DT_OK)
        return DT_ERR_IO;
    if (old_report) {
        /* The report a reanalysis replaced goes, unless another upload
         * (one that reused it) still shows it. */
        st = dt_sql_prepare(s, "DELETE FROM reports WHERE id = ?1 AND NOT EXISTS"
                               " (SELECT 1 FROM uploads WHERE report_id = ?1)", err);
        if (!st)
            return DT_ERR_IO;
        dt_stmt_bind_int64(st, 1, old_report);
        if (step_done(s, st, err, "cannot drop the replaced report") != DT_OK)
            return DT_ERR_IO;
    }
    return DT_OK;
}

dt_status dt_store_job_finish(dt_store *s, const dt_job *job, const char *json, const dt_report_index *idx,
                              int64_t duration_ms, dt_error *err)
{
    finish_ctx c = { job, json, idx, duration_ms };
    return dt_sql_txn(s, finish_body, &c, err);
}

typedef struct {
    const dt_job *job;
    const char *error_class, *message;
    bool again;
} fail_ctx;

static dt_status fail_body(dt_store *s, void *vctx, dt_error *err)
{
    const fail_ctx *c = vctx;
    int64_t now = dt_now();
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET state = ?, finished_at = ?, error = ?, error_class = ?,"
                                         " lease_owner = NULL, lease_expires = NULL, phase = NULL"
                                         " WHERE id = ? AND state = 'leased' AND lease_owner = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->again ? "queued" : "failed");
    dt_stmt_bind_int64(st, 2, now);
    dt_sql_bind_text(st, 3, c->message);
    dt_sql_bind_text(st, 4, c->error_class);
    dt_stmt_bind_int64(st, 5, c->job->job_id);
    dt_sql_bind_text(st, 6, c->job->owner);
    if (step_done(s, st, err, "cannot record failure") != DT_OK)
        return DT_ERR_IO;
    if (dt_db_changes(s->db) != 1)
        return DT_OK; /* requeued or deleted meanwhile: nothing to record */
    char reason[600];
    snprintf(reason, sizeof reason, "%s: %s", c->error_class, c->message);
    st = dt_sql_prepare(s, "UPDATE uploads SET status = ?, error = ?, updated_at = ? WHERE seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, c->again ? "queued" : "failed");
    dt_sql_bind_text(st, 2, c->again ? NULL : reason);
    dt_stmt_bind_int64(st, 3, now);
    dt_stmt_bind_int64(st, 4, c->job->upload_seq);
    return step_done(s, st, err, "cannot record failure");
}

dt_status dt_store_job_fail(dt_store *s, const dt_job *job, const char *error_class, const char *message,
                            int retry, dt_error *err)
{
    fail_ctx c = { job, error_class, message, retry && job->attempts < 2 };
    return dt_sql_txn(s, fail_body, &c, err);
}

static dt_status requeue_body(dt_store *s, void *vctx, dt_error *err)
{
    const dt_job *job = vctx;
    dt_stmt *st = dt_sql_prepare(s,
        "UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_owner = NULL, lease_expires = NULL,"
        " phase = NULL WHERE id = ? AND state = 'leased' AND lease_owner = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, job->job_id);
    dt_sql_bind_text(st, 2, job->owner);
    if (step_done(s, st, err, "cannot requeue job") != DT_OK)
        return DT_ERR_IO;
    if (dt_db_changes(s->db) != 1)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "job %lld is no longer leased by %s", (long long)job->job_id,
                            job->owner);
    st = dt_sql_prepare(s, "UPDATE uploads SET status = 'queued' WHERE status = 'analyzing' AND seq = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, job->upload_seq);
    return step_done(s, st, err, "cannot requeue job");
}

dt_status dt_store_job_requeue(dt_store *s, const dt_job *job, dt_error *err)
{
    return dt_sql_txn(s, requeue_body, (void *)job, err);
}

typedef struct {
    bool all;
    int requeued;
} expired_ctx;

static dt_status expired_body(dt_store *s, void *vctx, dt_error *err)
{
    expired_ctx *c = vctx;
    int64_t now = dt_now();
    /* Interrupted while the server itself worked on it (reading and
     * storing the report): the job may be what killed the server.  Unpacking
     * and analysis run in limited children, which cannot take it down. */
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET server_deaths = server_deaths + 1 WHERE state = 'leased'"
                                         " AND (?1 <> 0 OR lease_expires < ?2) AND phase = 'store'", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->all);
    dt_stmt_bind_int64(st, 2, now);
    if (step_done(s, st, err, "cannot count server deaths") != DT_OK)
        return DT_ERR_IO;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE jobs SET state = 'failed', finished_at = ?2, error_class = 'server_died',"
             " error = CASE WHEN server_deaths >= %d THEN 'the server stopped ' || server_deaths ||"
             " ' times while processing this upload (' || COALESCE(phase, '') || ')'"
             " ELSE 'the analysis was interrupted ' || attempts || ' times' END,"
             " lease_owner = NULL, lease_expires = NULL"
             " WHERE state = 'leased' AND (?1 <> 0 OR lease_expires < ?2) AND (server_deaths >= %d OR attempts >= %d)",
             DT_JOB_MAX_SERVER_DEATHS, DT_JOB_MAX_SERVER_DEATHS, DT_JOB_MAX_LEASES);
    st = dt_sql_prepare(s, sql, err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->all);
    dt_stmt_bind_int64(st, 2, now);
    if (step_done(s, st, err, "cannot fail interrupted jobs") != DT_OK)
        return DT_ERR_IO;
    st = dt_sql_prepare(s, "UPDATE uploads SET status = 'failed', updated_at = ?1, error = (SELECT 'server_died: '"
                           " || j.error FROM jobs j WHERE j.upload_seq = uploads.seq AND j.finished_at = ?1"
                           " AND j.error_class = 'server_died' ORDER BY j.id DESC LIMIT 1)"
                           " WHERE status = 'analyzing' AND seq IN (SELECT upload_seq FROM jobs WHERE state = 'failed'"
                           " AND error_class = 'server_died' AND finished_at = ?1)", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, now);
    if (step_done(s, st, err, "cannot fail interrupted uploads") != DT_OK)
        return DT_ERR_IO;
    st = dt_sql_prepare(s, "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires = NULL"
                           " WHERE state = 'leased' AND (?1 <> 0 OR lease_expires < ?2)", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, c->all);
    dt_stmt_bind_int64(st, 2, now);
    if (step_done(s, st, err, "cannot requeue") != DT_OK)
        return DT_ERR_IO;
    c->requeued = dt_db_changes(s->db);
    return dt_sql_exec(s, "UPDATE uploads SET status = 'queued' WHERE status = 'analyzing' AND seq IN"
                          " (SELECT upload_seq FROM jobs WHERE state = 'queued')", err);
}

int dt_store_requeue_expired(dt_store *s, int all)
{
    expired_ctx c = { all != 0, 0 };
    if (dt_sql_txn(s, expired_body, &c, NULL) != DT_OK)
        return -1;
    return c.requeued;
}

int64_t dt_store_queue_depth(dt_store *s)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'", NULL);
    int64_t n = -1;
    if (st && dt_stmt_step(st) == DT_DB_ROW)
        n = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return n;
}

int64_t dt_store_queue_depth_for(dt_store *s, const char *submitter)
{
    dt_stmt *st = dt_sql_prepare(s, "SELECT COUNT(*) FROM jobs WHERE submitter = ? AND state = 'queued'", NULL);
    int64_t n = -1;
    if (st) {
        dt_sql_bind_text(st, 1, submitter);
        if (dt_stmt_step(st) == DT_DB_ROW)
            n = dt_stmt_int64(st, 0);
    }
    dt_stmt_finalize(st);
    return n;
}

dt_status dt_store_job_set_submitter(dt_store *s, const char *upload_id, const char *submitter, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET submitter = ? WHERE upload_seq ="
                                         " (SELECT seq FROM uploads WHERE id = ?)", err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, submitter);
    dt_sql_bind_text(st, 2, upload_id);
    return step_done(s, st, err, "cannot record the submitter");
}

dt_status dt_store_job_phase(dt_store *s, const dt_job *job, const char *phase, dt_error *err)
{
    dt_stmt *st = dt_sql_prepare(s, "UPDATE jobs SET phase = ? WHERE id = ? AND state = 'leased' AND lease_owner = ?",
                                 err);
    if (!st)
        return DT_ERR_IO;
    dt_sql_bind_text(st, 1, phase);
    dt_stmt_bind_int64(st, 2, job->job_id);
    dt_sql_bind_text(st, 3, job->owner);
    if (step_done(s, st, err, "cannot record the job's phase") != DT_OK)
        return DT_ERR_IO;
    if (dt_db_changes(s->db) != 1)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "job %lld is no longer leased by %s", (long long)job->job_id,
                            job->owner);
    return DT_OK;
}

/* Appends printf output to a growing buffer; on OOM the buffer is kept as is. */
static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        size_t ncap = *cap * 2 + (size_t)n;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return;
        *buf = nb;
        *cap = ncap;
    }
}

static int64_t scalar(dt_store *s, const char *sql)
{
    dt_stmt *st = dt_sql_prepare(s, sql, NULL);
    int64_t v = 0;
    if (st && dt_stmt_step(st) == DT_DB_ROW)
        v = dt_stmt_int64(st, 0);
    dt_stmt_finalize(st);
    return v;
}

char *dt_store_metrics(dt_store *s)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = 0;
    appendf(&buf, &len, &cap, "# HELP dt_uploads Uploads stored.\n# TYPE dt_uploads gauge\ndt_uploads %lld\n",
            (long long)scalar(s, "SELECT COUNT(*) FROM uploads"));
    appendf(&buf, &len, &cap, "# HELP dt_upload_bytes Bytes of uploads stored.\n# TYPE dt_upload_bytes gauge\n"
            "dt_upload_bytes %lld\n", (long long)scalar(s, "SELECT COALESCE(SUM(bytes),0) FROM uploads"));
    appendf(&buf, &len, &cap, "# HELP dt_queue_depth Analyses waiting.\n# TYPE dt_queue_depth gauge\n"
            "dt_queue_depth %lld\n", (long long)scalar(s, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'"));
    appendf(&buf, &len, &cap, "# HELP dt_analyses_running Analyses leased by a worker.\n"
            "# TYPE dt_analyses_running gauge\ndt_analyses_running %lld\n",
            (long long)scalar(s, "SELECT COUNT(*) FROM jobs WHERE state = 'leased'"));
    appendf(&buf, &len, &cap, "# HELP dt_uploads_by_status Uploads by status.\n# TYPE dt_uploads_by_status gauge\n");
    dt_stmt *st = dt_sql_prepare(s, "SELECT status, COUNT(*) FROM uploads GROUP BY status", NULL);
    while (st && dt_stmt_step(st) == DT_DB_ROW)
        appendf(&buf, &len, &cap, "dt_uploads_by_status{status=\"%s\"} %lld\n",
                (const char *)dt_stmt_text(st, 0), (long long)dt_stmt_int64(st, 1));
    dt_stmt_finalize(st);
    appendf(&buf, &len, &cap, "# HELP dt_analysis_failures Failed analyses by reason.\n"
            "# TYPE dt_analysis_failures gauge\n");
    st = dt_sql_prepare(s, "SELECT COALESCE(error_class,'unknown'), COUNT(*) FROM jobs WHERE state = 'failed'"
                           " GROUP BY 1", NULL);
    while (st && dt_stmt_step(st) == DT_DB_ROW)
        appendf(&buf, &len, &cap, "dt_analysis_failures{reason=\"%s\"} %lld\n",
                (const char *)dt_stmt_text(st, 0), (long long)dt_stmt_int64(st, 1));
    dt_stmt_finalize(st);
    /* Histogram of analysis durations over the stored reports. */
    static const double bounds[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600 };
    appendf(&buf, &len, &cap, "# HELP dt_analysis_duration_seconds Duration of stored analyses.\n"
            "# TYPE dt_analysis_duration_seconds histogram\n");
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM reports WHERE duration_ms <= %lld",
                 (long long)(bounds[i] * 1000));
        appendf(&buf, &len, &cap, "dt_analysis_duration_seconds_bucket{le=\"%g\"} %lld\n", bounds[i],
                (long long)scalar(s, sql));
    }
    int64_t count = scalar(s, "SELECT COUNT(*) FROM reports");
    appendf(&buf, &len, &cap, "dt_analysis_duration_seconds_bucket{le=\"+Inf\"} %lld\n", (long long)count);
    appendf(&buf, &len, &cap, "dt_analysis_duration_seconds_sum %.3f\n",
            (double)scalar(s, "SELECT COALESCE(SUM(duration_ms),0) FROM reports") / 1000.0);
    appendf(&buf, &len, &cap, "dt_analysis_duration_seconds_count %lld\n", (long long)count);
    return buf;
}
