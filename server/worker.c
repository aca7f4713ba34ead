/*
 * worker.c — owns the analysis workers: leasing, unpacking, running the
 * analyzer child, classifying its failures, storing the report.
 *
 * Failure classes stored with a failed job (and counted in /metrics):
 *   timeout        wall clock ran out (--analysis-timeout)        no retry
 *   cpu_limit      RLIMIT_CPU (SIGXCPU)                           no retry
 *   output_limit   the report outgrew RLIMIT_FSIZE (SIGXFSZ)      no retry
 *   memory_limit   the analyzer ran out of address space          no retry
 *   crash          killed by a signal (SIGSEGV, SIGABRT, …)       retried once
 *   killed         SIGKILL not sent by us (OOM killer)            retried once
 *   spawn          the child could not be started                 retried once
 *   unusable       the analyzer said the input is unusable (1)    no retry
 *   error          any other exit status                          no retry
 *   invalid_output exit 0 but not a JSON object on stdout         no retry
 *   archive        the archive could not be unpacked              no retry
 *   server_died    the server died (or hung past the lease) while  failed at the
 *                  working on the job in-process twice, or the     next start
 *                  job was leased 8 times (store_jobs.c)
 * A retry helps only when the cause may be outside the input (memory
 * pressure, a transient crash); a deterministic verdict is not repeated.
 * Attempts are counted when a job is leased, before work starts, and the
 * worker records its phase (unpack, analyze, store) so that a server death
 * in the one phase run inside the server (store: reading, indexing and
 * storing the report) is charged to the job.
 *
 * Messages stored with a failure are shown to view-link holders, so they
 * never name server paths: the analyzer's stderr names the blob it was
 * given, which is replaced by the upload's own file name; anything else
 * under the data directory becomes "<data>".  The raw line goes to the
 * job's log line (for staff).
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis_child.h"
#include "archive_unpack.h"
#include "blob.h"
#include "log.h"
#include "report_index.h"
#include "report_names.h"
#include "series_inputs.h"
#include "symbol_filing.h"

#define MAX_REPORT_BYTES (512ull << 20)

typedef struct dt_worker_slot worker_slot;

/* Stop working on the job: the drain's grace is over, or the heartbeat
 * found the lease taken (the job runs elsewhere now). */
static bool should_kill(void *arg)
{
    worker_slot *slot = arg;
    dt_server *srv = slot->srv;
    pthread_mutex_lock(&srv->mu);
    bool k = srv->kill_running || slot->lost;
    pthread_mutex_unlock(&srv->mu);
    return k;
}

static bool lease_lost(worker_slot *slot)
{
    pthread_mutex_lock(&slot->srv->mu);
    bool lost = slot->lost;
    pthread_mutex_unlock(&slot->srv->mu);
    return lost;
}

static void last_line(const char *path, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n)
            snprintf(out, len, "%s", line);
    }
    fclose(f);
}

static char *read_report(const char *path, dt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dt_error_set(err, DT_ERR_IO, "no output");
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size > MAX_REPORT_BYTES) {
        fclose(f);
        dt_error_set(err, DT_ERR_CORRUPT, "output too large");
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf) {
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = 0;
    return buf;
}

/* Replaces every occurrence of `from` in buf (NUL-terminated, size len)
 * by `to`, truncating at len. */
static void replace_all(char *buf, size_t len, const char *from, const char *to)
{
    size_t flen = strlen(from), tlen = strlen(to);
    if (!flen)
        return;
    char out[1024];
    size_t o = 0;
    for (const char *p = buf; *p && o + 1 < sizeof out;) {
        if (strncmp(p, from, flen) == 0) {
            for (size_t i = 0; i < tlen && o + 1 < sizeof out; i++)
                out[o++] = to[i];
            p += flen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
    size_t n = o < len ? o : len - 1;
    memcpy(buf, out, n);
    buf[n] = 0;
}

/* The name a view-link holder knows a file by. */

void dt_worker_public_message(const char *data_dir, const dt_file_rec *files, int nfiles, char *msg, size_t len)
{
    /* The analyzer was given the blob store's local path (blob.h). */
    char path[1200];
    dt_blob_store *bs = dt_blob_store_at(data_dir, NULL);
    for (int i = 0; bs && i < nfiles; i++)
        if (bs->ops->local_path(bs, files[i].sha256, path, sizeof path, NULL) == 0)
            replace_all(msg, len, path, dt_file_shown_name(&files[i]));
    dt_blob_store_free(bs);
    if (data_dir[0])
        replace_all(msg, len, data_dir, "<data>");
}

/* public message over the job's files and those unpacked from its archive. */
static void public_message(const dt_server *srv, const dt_job *job, const dt_file_rec *extra, int nextra, char *msg,
                           size_t len)
{
    dt_file_rec all[DT_MAX_UPLOAD_FILES + 2];
    int n = 0;
    for (int i = 0; i < job->nfiles && n < (int)(sizeof all / sizeof all[0]); i++)
        all[n++] = job->files[i];
    for (int i = 0; i < nextra && n < (int)(sizeof all / sizeof all[0]); i++)
        all[n++] = extra[i];
    dt_worker_public_message(srv->cfg.data_dir, all, n, msg, len);
}

static const char *hook_of(dt_server *srv, const dt_job *job)
{
    if (!srv->cfg.test_hooks)
        return NULL;
    /* server_crash is not the child's: the server aborts in its own store
     * phase (a stand-in for a server bug an input triggers). */
    static const char *hooks[] = { "crash", "hang", "cpu", "memory", "server_crash" };
    const char *env = getenv("DT_TEST_ANALYZER_HOOK");
    const char *p = strstr(job->note, "DT_TEST_HOOK=");
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
        if (p && strncmp(p + 13, hooks[i], strlen(hooks[i])) == 0)
            return hooks[i];
        if (env && strcmp(env, hooks[i]) == 0)
            return hooks[i];
    }
    return NULL;
}

static void count(dt_server *srv, bool ok)
{
    pthread_mutex_lock(&srv->mu);
    if (ok)
        srv->analyses_done++;
    else
        srv->analyses_failed++;
    pthread_mutex_unlock(&srv->mu);
}

/* What the job's log line reports. */
typedef struct {
    const char *result;     /* done | failed | retry | requeued | lease_lost */
    const char *failure;    /* failure class or NULL */
    bool ran;               /* the analyzer child ran */
    dt_child_result child;
    char detail[600];       /* the failure message as it was, for the log (staff) */
    const dt_file_rec *unpacked; /* files found in an archive, for public_message */
    int nunpacked;
} job_outcome;

static void fail_job(dt_server *srv, dt_store *st, const dt_job *job, const char *cls, const char *msg, bool retry,
                     job_outcome *oc)
{
    oc->result = retry && job->attempts <= 1 ? "retry" : "failed";
    oc->failure = cls;
    snprintf(oc->detail, sizeof oc->detail, "%s", msg);
    char shown[600];
    snprintf(shown, sizeof shown, "%s", msg);
    public_message(srv, job, oc->unpacked, oc->nunpacked, shown, sizeof shown);
    dt_error err = { 0 };
    if (dt_store_job_fail(st, job, cls, shown, retry, &err) != DT_OK)
        fprintf(stderr, "dumptriage serve: job %lld: %s\n", (long long)job->job_id, err.message);
    count(srv, false);
    if (retry)
        dt_server_notify_job(srv);
}

/* A cancelled job goes back to the queue (drain), unless its lease was
 * lost: then it is another worker's, and requeueing would take it from
 * that worker.  The store checks the holder too (the heartbeat may not
 * have noticed the loss yet). */
static void give_back(dt_store *st, worker_slot *slot, const dt_job *job, job_outcome *oc)
{
    if (lease_lost(slot) || dt_store_job_requeue(st, job, NULL) == DT_ERR_NOT_FOUND) {
        oc->result = "lease_lost";
        return;
    }
    oc->result = "requeued";
}

/* Records the job's phase; false when the lease is gone (the store says
 * another worker holds the job now, or it was deleted): the job is left
 * to its new holder.  A store error is not a lost lease: work goes on and
 * the result decides. */
static bool enter_phase(dt_store *st, worker_slot *slot, const dt_job *job, const char *phase, job_outcome *oc)
{
    if (dt_store_job_phase(st, job, phase, NULL) != DT_ERR_NOT_FOUND)
        return true;
    pthread_mutex_lock(&slot->srv->mu);
    slot->lost = 1;
    pthread_mutex_unlock(&slot->srv->mu);
    oc->result = "lease_lost";
    return false;
}

/* The report names the files as their uploader did (report_names.h): the
 * paths handed to the analyzer become the upload names, the server's symbol
 * store "<data>/symbols", each --symbols element "<symbols N>" (inputs.symbols
 * would show view-key holders the server's directories); *text is printed
 * again when anything changed.  False on OOM. */
static bool public_names(const dt_server_config *cfg, cJSON *root, const dt_file_rec *user, const char *upath,
                         const dt_file_rec *kernel, const char *kpath, const dt_series_inputs *series,
                         const char *symdir, char **text)
{
    dt_report_name map[DT_MAX_UPLOAD_FILES + 3 + DT_MAX_SYMBOL_PATHS];
    char sym_names[DT_MAX_SYMBOL_PATHS][24];
    int n = 0;
    if (user && upath[0])
        map[n++] = (dt_report_name){ upath, dt_file_shown_name(user), false };
    if (kernel && kpath[0])
        map[n++] = (dt_report_name){ kpath, dt_file_shown_name(kernel), false };
    for (int i = 0; i < series->nlinks; i++)
        map[n++] = (dt_report_name){ series->links[i], series->names[i], false };
    /* A module's symbol source quotes the store inside "pdb:DIR/…": match
     * anywhere (the directory is absolute and under the data dir). */
    map[n++] = (dt_report_name){ symdir, "<data>/symbols", false };
    for (int i = 0; i < cfg->symbol_path_count && i < DT_MAX_SYMBOL_PATHS; i++) {
        snprintf(sym_names[i], sizeof sym_names[i], "<symbols %d>", i + 1);
        map[n++] = (dt_report_name){ cfg->symbol_paths[i], sym_names[i], true };
    }
    int changed = dt_report_public_names(root, map, n);
    if (changed < 0)
        return false;
    if (changed == 0)
        return true;
    char *again = cJSON_Print(root);
    if (!again)
        return false;
    free(*text);
    *text = again;
    return true;
}

static void run_job(dt_server *srv, worker_slot *slot, dt_store *st, dt_job *job, job_outcome *oc)
{
    const char *data = srv->cfg.data_dir;
    dt_file_rec *user = NULL, *kernel = NULL, *archive = NULL;
    for (int i = 0; i < job->nfiles; i++) {
        dt_file_rec *f = &job->files[i];
        if (strcmp(f->role, "user") == 0)
            user = f;
        else if (strcmp(f->role, "kernel") == 0)
            kernel = f;
        else if (strcmp(f->role, "archive") == 0)
            archive = f;
    }
    dt_file_rec unpacked[DT_UNPACK_MAX_DUMPS];
    const char *hook = hook_of(srv, job);
    bool server_crash = hook && strcmp(hook, "server_crash") == 0;
    if (server_crash)
        hook = NULL;
    /* An archive is unpacked for every analysis, a reanalysis too: the
     * rows recorded from it name only its first pair, not a series. */
    if (archive) {
        user = kernel = NULL;
        if (!enter_phase(st, slot, job, "unpack", oc))
            return;
        char path[1200];
        dt_error perr = { 0 };
        dt_blob_store *bs = dt_blob_store_at(data, &perr);
        if (!bs || bs->ops->local_path(bs, archive->sha256, path, sizeof path, &perr) != 0) {
            dt_blob_store_free(bs);
            fail_job(srv, st, job, "archive", perr.message[0] ? perr.message : "out of memory", false, oc);
            return;
        }
        dt_unpack_limits lim;
        dt_unpack_limits_from_config(&lim, &srv->cfg);
        lim.cancelled = should_kill; /* a drain past its grace stops unpacking too */
        lim.cancel_arg = slot;
        int n = 0;
        bool cancelled = false;
        dt_error err = { 0 };
        if (dt_archive_unpack_ex(data, path, &lim, unpacked, &n, &cancelled, &err) != DT_OK) {
            dt_blob_store_free(bs);
            if (cancelled) {
                give_back(st, slot, job, oc);
            } else {
                fail_job(srv, st, job, "archive", err.message, false, oc);
            }
            return;
        }
        /* The entries were placed without the blob lock (unpacking may take
         * long); under it, make sure none was unlinked meanwhile as the
         * orphan of a deleted upload with the same content, then reference
         * them.  A vanished one is unpacked again on the retry. */
        int lock = dt_blob_lock(data);
        int present = lock >= 0;
        for (int i = 0; present && i < n; i++)
            present = bs->ops->exists(bs, unpacked[i].sha256, unpacked[i].size);
        dt_status added = present ? dt_store_job_add_files(st, job, unpacked, n, &err) : DT_ERR_IO;
        dt_blob_unlock(lock);
        dt_blob_store_free(bs);
        if (added != DT_OK) {
            fail_job(srv, st, job, "spawn", present ? err.message : "an unpacked file was removed meanwhile", true, oc);
            return;
        }
        oc->unpacked = unpacked;
        oc->nunpacked = n;
        for (int i = 0; i < n; i++) {
            if (strcmp(unpacked[i].role, "user") == 0)
                user = &unpacked[i];
            else
                kernel = &unpacked[i];
        }
    }
    if (!user && !kernel) {
        fail_job(srv, st, job, "unusable", "the upload holds no dump", false, oc);
        return;
    }
    /* Several user dumps: a series (series_inputs.h), analysed with --series. */
    dt_series_inputs series = { 0 };
    /* An archive's dumps are the ones just unpacked (the upload records
     * only its first pair), so a series in an archive is one too. */
    const dt_file_rec *sfiles = oc->nunpacked ? unpacked : job->files;
    int nsfiles = oc->nunpacked ? oc->nunpacked : job->nfiles;
    bool is_series = dt_series_user_count(sfiles, nsfiles) > 1;
    if (is_series)
        user = kernel = NULL;
    /* A .dmp.gz is inflated by the server, bounded, into data/tmp
     * (archive_unpack.h): not by the analyzer into /tmp under its output
     * limit.  insize is what the analyzer maps. */
    char upath[1200] = "", kpath[1200] = "";
    uint64_t insize = 0, usize = 0, ksize = 0;
    bool utemp = false, ktemp = false;
    {
        dt_unpack_limits ilim;
        dt_unpack_limits_from_config(&ilim, &srv->cfg);
        ilim.cancelled = should_kill; /* a drain past its grace stops unpacking too */
        ilim.cancel_arg = slot;
        dt_error ierr = { 0 };
        bool icancelled = false;
        if ((is_series && dt_series_inputs_prepare(data, (long long)job->job_id, job->attempts, sfiles, nsfiles,
                                                   &ilim, &series, &icancelled, &ierr) != DT_OK)
            || (user && dt_unpack_input(data, user, &ilim, upath, sizeof upath, &usize, &utemp, &icancelled, &ierr) != DT_OK)
            || (kernel && dt_unpack_input(data, kernel, &ilim, kpath, sizeof kpath, &ksize, &ktemp, &icancelled, &ierr)
                              != DT_OK)) {
            if (utemp)
                unlink(upath);
            if (icancelled) {
                give_back(st, slot, job, oc);
            } else {
                fail_job(srv, st, job, "archive", ierr.message, false, oc);
            }
            return;
        }
        insize = usize + ksize + series.insize;
    }
    char *argv[11 + DT_MAX_UPLOAD_FILES + 2 * DT_MAX_SYMBOL_PATHS];
    int ac = 0;
    argv[ac++] = srv->analyzer;
    argv[ac++] = "analyze";
    argv[ac++] = "--format";
    argv[ac++] = "json";
    if (is_series) {
        argv[ac++] = "--series";
        for (int i = 0; i < series.nlinks; i++)
            argv[ac++] = series.links[i];
    }
    /* Roles were sniffed at upload (or unpack); say them explicitly. */
    if (user) {
        argv[ac++] = "--user";
        argv[ac++] = upath;
    }
    if (kernel) {
        argv[ac++] = "--kernel";
        argv[ac++] = kpath;
    }
    for (int i = 0; i < srv->cfg.symbol_path_count; i++) {
        argv[ac++] = "--symbols";
        argv[ac++] = srv->cfg.symbol_paths[i];
    }
    /* The server's own store (POST /api/symbols) is searched last — once it
     * exists: before the first symbol upload it does not, and the analyzer
     * would warn about a missing element in every report. */
    char symdir[1200];
    dt_symbol_filing_dir(data, symdir, sizeof symdir);
    struct stat symst;
    if (stat(symdir, &symst) == 0 && S_ISDIR(symst.st_mode)) {
        argv[ac++] = "--symbols";
        argv[ac++] = symdir;
    }
    argv[ac] = NULL;
    char out[1200], errp[1200];
    snprintf(out, sizeof out, "%s/tmp/job-%lld-%d.out", data, (long long)job->job_id, job->attempts);
    snprintf(errp, sizeof errp, "%s/tmp/job-%lld-%d.err", data, (long long)job->job_id, job->attempts);
    dt_child_spec spec = {
        .argv = argv,
        .out_path = out,
        .err_path = errp,
        .as_limit = srv->cfg.analysis_memory ? srv->cfg.analysis_memory + insize : 0,
        .cpu_seconds = srv->cfg.analysis_cpu,
        .fsize_limit = MAX_REPORT_BYTES,
        .timeout_seconds = srv->cfg.analysis_timeout,
        .hook = hook,
        .cancelled = should_kill,
        .cancel_arg = slot,
    };
    dt_child_result res;
    dt_error err = { 0 };
    bool held = enter_phase(st, slot, job, "analyze", oc);
    if (!held || dt_child_run(&spec, &res, &err) != DT_OK) {
        if (held)
            fail_job(srv, st, job, "spawn", err.message, true, oc);
        unlink(out);
        unlink(errp);
        dt_series_inputs_cleanup(&series);
        if (utemp)
            unlink(upath);
        if (ktemp)
            unlink(kpath);
        return;
    }
    oc->ran = true;
    oc->child = res;
    char why[400], msg[600];
    last_line(errp, why, sizeof why);
    if (res.cancelled) {
        give_back(st, slot, job, oc);
    } else if (res.timed_out) {
        snprintf(msg, sizeof msg, "the analysis did not finish within %u s", srv->cfg.analysis_timeout);
        fail_job(srv, st, job, "timeout", msg, false, oc);
    } else if (res.signaled) {
        int cpu_out = srv->cfg.analysis_cpu && res.cpu_ms >= (int64_t)srv->cfg.analysis_cpu * 1000;
        const char *cls = res.signal == SIGXCPU || (res.signal == SIGKILL && cpu_out) ? "cpu_limit" : res.signal == SIGXFSZ ? "output_limit"
                        : res.signal == SIGKILL ? "killed" : "crash";
        snprintf(msg, sizeof msg, "the analyzer was killed by signal %d (%s)%s%s", res.signal,
                 strsignal(res.signal), why[0] ? ": " : "", why);
        fail_job(srv, st, job, cls, msg, strcmp(cls, "crash") == 0 || strcmp(cls, "killed") == 0, oc);
    } else if (res.exit_code != 0) {
        int mem = strstr(why, "memory") != NULL || strstr(why, "Cannot allocate") != NULL;
        snprintf(msg, sizeof msg, "%s (exit status %d)", why[0] ? why : "the analyzer failed", res.exit_code);
        fail_job(srv, st, job, mem ? "memory_limit" : res.exit_code == 1 ? "unusable" : "error", msg, false, oc);
    } else {
        /* From here the server itself parses and stores the output. */
        dt_store_job_phase(st, job, "store", NULL);
        if (server_crash)
            abort();
        char *text = read_report(out, &err);
        cJSON *root = text ? cJSON_Parse(text) : NULL;
        if (root && cJSON_IsObject(root) && !public_names(&srv->cfg, root, user, upath, kernel, kpath, &series, symdir, &text)) {
            fail_job(srv, st, job, "store", "out of memory naming the files in the report", true, oc);
        } else if (!root || !cJSON_IsObject(root)) {
            fail_job(srv, st, job, "invalid_output", text ? "the analyzer printed no JSON object" : err.message, false, oc);
        } else {
            dt_report_index idx;
            dt_report_index_build(root, &idx);
            if (dt_store_job_finish(st, job, text, &idx, res.duration_ms, &err) != DT_OK) {
                fprintf(stderr, "dumptriage serve: job %lld: %s\n", (long long)job->job_id, err.message);
                oc->result = "failed";
                oc->failure = "store";
            } else {
                count(srv, true);
                oc->result = "done";
            }
            dt_report_index_free(&idx);
        }
        cJSON_Delete(root);
        free(text);
    }
    unlink(out);
    unlink(errp);
    dt_series_inputs_cleanup(&series);
    if (utemp)
        unlink(upath);
    if (ktemp)
        unlink(kpath);
}

static void log_job(const dt_job *job, const job_outcome *oc, int64_t ms, double claim_ms)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddNumberToObject(o, "job_id", (double)job->job_id);
    cJSON_AddStringToObject(o, "upload_id", job->upload_id);
    cJSON_AddNumberToObject(o, "attempt", job->attempts);
    cJSON_AddStringToObject(o, "result", oc->result ? oc->result : "unknown");
    if (oc->failure)
        cJSON_AddStringToObject(o, "failure", oc->failure);
    else
        cJSON_AddNullToObject(o, "failure");
    cJSON_AddNumberToObject(o, "duration_ms", (double)ms);
    cJSON_AddNumberToObject(o, "claim_ms", claim_ms);
    if (oc->ran && oc->child.exited && !oc->child.timed_out && !oc->child.cancelled)
        cJSON_AddNumberToObject(o, "analyzer_exit", oc->child.exit_code);
    else
        cJSON_AddNullToObject(o, "analyzer_exit");
    if (oc->ran && oc->child.signaled)
        cJSON_AddNumberToObject(o, "analyzer_signal", oc->child.signal);
    if (oc->ran)
        cJSON_AddNumberToObject(o, "analyzer_cpu_ms", (double)oc->child.cpu_ms);
    if (oc->detail[0])
        cJSON_AddStringToObject(o, "detail", oc->detail); /* may name server paths: the log is for staff */
    dt_log_event("job", o);
}

/* Renews the leases of the jobs this process's workers hold, every third
 * of --lease, on a connection of its own (a worker's connection is busy
 * storing a report when it matters most).  A renewal that finds the lease
 * gone marks the slot lost: the worker stops that job and leaves it to its
 * new holder.  It runs until the workers are joined, so a drain's running
 * analyses keep their leases. */
static void *heartbeat_main(void *arg)
{
    dt_server *srv = arg;
    dt_store *st = NULL;
    int64_t lease = (int64_t)srv->cfg.job_lease;
    int64_t period_ms = lease * 1000 / 3;
    pthread_mutex_lock(&srv->mu);
    while (!srv->heartbeat_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(period_ms / 1000);
        until.tv_nsec += (long)(period_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!srv->heartbeat_stop && pthread_cond_timedwait(&srv->wake, &srv->mu, &until) != ETIMEDOUT) {
        }
        if (srv->heartbeat_stop)
            break;
        int64_t ids[DT_MAX_WORKERS];
        int n = srv->nworkers;
        for (int i = 0; i < n; i++)
            ids[i] = srv->slots[i].lost ? 0 : srv->slots[i].job_id;
        pthread_mutex_unlock(&srv->mu);
        for (int i = 0; i < n; i++) {
            if (!ids[i])
                continue;
            if (!st)
                st = dt_server_store(srv);
            int r = st ? dt_store_job_heartbeat(st, ids[i], srv->instance, lease) : -1;
            if (r < 0) {
                dt_store_close(st); /* reconnect at the next beat; the lease may still hold */
                st = NULL;
            } else if (r == 0) {
                pthread_mutex_lock(&srv->mu);
                if (srv->slots[i].job_id == ids[i])
                    srv->slots[i].lost = 1;
                pthread_mutex_unlock(&srv->mu);
                cJSON *o = cJSON_CreateObject();
                if (o) {
                    cJSON_AddNumberToObject(o, "job_id", (double)ids[i]);
                    cJSON_AddStringToObject(o, "result", "lease_lost");
                    dt_log_event("job", o);
                }
            }
        }
        pthread_mutex_lock(&srv->mu);
    }
    pthread_mutex_unlock(&srv->mu);
    dt_store_close(st);
    return NULL;
}

static void *worker_main(void *arg)
{
    worker_slot *slot = arg;
    dt_server *srv = slot->srv;
    dt_store *st = NULL;
    /* Short, renewed by heartbeat_main: a worker that dies (kill -9, its
     * host lost) holds its job at most this long after its last renewal;
     * then any worker of the store requeues it (dt_store_requeue_expired
     * below). */
    int64_t lease = (int64_t)srv->cfg.job_lease;
    for (;;) {
        pthread_mutex_lock(&srv->mu);
        int stop = srv->stopping;
        pthread_mutex_unlock(&srv->mu);
        if (stop)
            break;
        if (!st)
            st = dt_server_store(srv);
        dt_job job;
        /* The claim is a few ms on a store shared by many workers: ms
         * granularity would hide it, so microseconds. */
        struct timespec c0, c1;
        clock_gettime(CLOCK_MONOTONIC, &c0);
        int got = st ? dt_store_job_lease(st, srv->instance, lease, &job) : -1;
        clock_gettime(CLOCK_MONOTONIC, &c1);
        if (got == 1) {
            double claim_ms = (double)((c1.tv_sec - c0.tv_sec) * 1000000 + (c1.tv_nsec - c0.tv_nsec) / 1000) / 1000.0;
            pthread_mutex_lock(&srv->mu);
            srv->running++;
            slot->job_id = job.job_id;
            slot->lost = 0;
            pthread_mutex_unlock(&srv->mu);
            atomic_fetch_add(&srv->metrics.jobs_claimed, 1);
            job_outcome oc = { 0 };
            int64_t t0 = dt_log_mono_ms();
            run_job(srv, slot, st, &job, &oc);
            int64_t ms = dt_log_mono_ms() - t0;
            log_job(&job, &oc, ms, claim_ms);
            if (oc.result && (strcmp(oc.result, "requeued") == 0 || strcmp(oc.result, "lease_lost") == 0))
                atomic_fetch_add(&srv->metrics.jobs_requeued, 1);
            else
                dt_metrics_analysis(&srv->metrics, ms);
            pthread_mutex_lock(&srv->mu);
            srv->running--;
            slot->job_id = 0;
            slot->lost = 0;
            pthread_cond_broadcast(&srv->wake);
            pthread_mutex_unlock(&srv->mu);
            continue;
        }
        if (got < 0) {
            dt_store_close(st); /* the store went away: reconnect on the next round */
            st = NULL;
        }
        if (st)
            dt_store_requeue_expired(st, 0);
        /* Nothing queued: on PostgreSQL, wait for its NOTIFY of a queued job
         * (a second at most, to see a drain and expired leases); otherwise
         * sleep until told, or a second passes (another process may have
         * queued work, or a lease may have expired). */
        if (st && dt_store_wait_for_jobs(st, 1000) >= 0)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_mutex_lock(&srv->mu);
        if (!srv->stopping)
            pthread_cond_timedwait(&srv->wake, &srv->mu, &ts);
        pthread_mutex_unlock(&srv->mu);
    }
    dt_store_close(st);
    return NULL;
}

dt_status dt_workers_start(dt_server *srv, dt_error *err)
{
    int n = srv->cfg.workers > DT_MAX_WORKERS ? DT_MAX_WORKERS : srv->cfg.workers;
    for (int i = 0; i < n; i++) {
        srv->slots[i].srv = srv;
        srv->slots[i].job_id = 0;
        srv->slots[i].lost = 0;
        int e = pthread_create(&srv->workers[i], NULL, worker_main, &srv->slots[i]);
        if (e != 0)
            return dt_error_set(err, DT_ERR_IO, "cannot start worker %d: %s", i + 1, strerror(e));
        srv->nworkers++;
    }
    if (n > 0) {
        int e = pthread_create(&srv->heartbeat, NULL, heartbeat_main, srv);
        if (e != 0)
            return dt_error_set(err, DT_ERR_IO, "cannot start the lease heartbeat: %s", strerror(e));
        srv->heartbeat_running = 1;
    }
    return DT_OK;
}

void dt_workers_stop(dt_server *srv)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += srv->cfg.drain_grace;
    pthread_mutex_lock(&srv->mu);
    srv->stopping = 1;
    pthread_cond_broadcast(&srv->wake);
    while (srv->running > 0) {
        if (pthread_cond_timedwait(&srv->wake, &srv->mu, &deadline) == ETIMEDOUT)
            break;
    }
    srv->kill_running = 1;
    pthread_mutex_unlock(&srv->mu);
    for (int i = 0; i < srv->nworkers; i++)
        pthread_join(srv->workers[i], NULL);
    srv->nworkers = 0;
    if (srv->heartbeat_running) {
        pthread_mutex_lock(&srv->mu);
        srv->heartbeat_stop = 1;
        pthread_cond_broadcast(&srv->wake);
        pthread_mutex_unlock(&srv->mu);
        pthread_join(srv->heartbeat, NULL);
        srv->heartbeat_running = 0;
    }
}
