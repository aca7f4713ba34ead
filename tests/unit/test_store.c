/*
 * test_store.c — the store: migrations, tokens and sessions, upload →
 * lease → report in one transaction, reuse of an identical pair, retries,
 * lease recovery, listing, deletion with orphaned blobs, retention purges;
 * several worker processes leasing at once (never the same job), a killed
 * worker's lease expiring, heartbeats keeping a lease; a worker whose lease
 * ran out changing nothing of the job another worker claimed since; a
 * deadlock between two transactions resolved by running the victim again,
 * and (PostgreSQL) a statement outside a transaction that met a
 * serialization failure, run again by itself.
 *
 * On SQLite by default.  With DT_TEST_PG_SOCK set (the socket directory of
 * a PostgreSQL started by tests/integration/test_store_pg.sh) every case
 * runs against a fresh PostgreSQL database instead: the same assertions
 * hold for both engines.
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dt_test.h"
#include "store_fixture.h"
#include "report_index.h"
#include "store.h"
#include "store_pool.h"

static char dir[256];
static char db[600];

static dt_store *open_fresh(void) { return dt_test_store_fresh("store", dir, sizeof dir, db, sizeof db); }

static void remove_fresh(dt_store *s) { dt_test_store_remove(s, dir); }

static dt_upload_new one_upload(const char *user_sha, const char *kernel_sha)
{
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    if (user_sha) {
        dt_file_rec *f = &u.files[u.nfiles++];
        strcpy(f->role, "user");
        strcpy(f->sha256, user_sha);
        f->size = 36724;
        strcpy(f->kind, "minidump");
        strcpy(f->name, "calc.dmp");
    }
    if (kernel_sha) {
        dt_file_rec *f = &u.files[u.nfiles++];
        strcpy(f->role, "kernel");
        strcpy(f->sha256, kernel_sha);
        f->size = 1444532;
        strcpy(f->kind, "kernel64");
    }
    u.note = "stuck in the print dialog";
    u.case_id = "CASE-42";
    return u;
}

#define SHA_A "a8efc968340ae2055b9aecca2fd624b3065e95b8545b0d5098999aba85f4904a"
#define SHA_B "6875e8ff013eddb9d562165067be24e2a231a8851690bb101f6597ca9534cd28"
#define SHA_C "0000000000000000000000000000000000000000000000000000000000000001"

static const char *report_json =
    "{\"schema_version\":2,\"user\":{\"pid\":4242,\"process\":{\"image\":\"C:\\\\Windows\\\\calc.exe\"},"
    "\"threads\":[{\"thread_id\":100,\"thread_name\":\"main\",\"frames\":[{\"module\":\"ntdll\",\"function\":"
    "\"NtWaitForSingleObject\"}]},{\"thread_id\":200}]},\"kernel\":{\"bugcheck\":{\"code\":268435582,"
    "\"name\":\"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M\"}},\"triage\":{\"primary\":{\"thread_id\":100,"
    "\"verdict\":\"deadlock\",\"signature\":\"calc.exe|deadlock|ntdll!NtWaitForSingleObject\"},"
    "\"threads\":[{\"thread_id\":100,\"state\":\"Waiting\",\"verdict\":\"deadlock\",\"stuck\":true}]},"
    "\"warnings\":[]}";

START_TEST(migrations_apply_once)
{
    dt_store *s = open_fresh();
    ck_assert_int_eq(dt_store_migration_count(s), 8); /* 001_initial … 005_client_limits, 006_workflow, 007_tus, 008_signature_merges */
    dt_store_close(s);
    char mig[1024];
    dt_test_migrations_dir(mig, sizeof mig);
    dt_error err = { 0 };
    s = dt_store_open(db, mig, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(dt_store_migration_count(s), 8); /* 001_initial … 005_client_limits, 006_workflow, 007_tus, 008_signature_merges */
    remove_fresh(s);
}
END_TEST

START_TEST(tokens_and_sessions)
{
    dt_store *s = open_fresh();
    ck_assert_int_eq(dt_store_has_staff(s), 0);
    char tok[80];
    int64_t id = 0;
    ck_assert_int_eq(dt_store_token_create(s, DT_ROLE_STAFF, "admin", NULL, tok, sizeof tok, &id, NULL), DT_OK);
    ck_assert_int_eq(strncmp(tok, "dt_", 3), 0);
    ck_assert_int_eq(strlen(tok), 3 + 48);
    ck_assert_int_eq(dt_store_has_staff(s), 1);
    int64_t got = 0;
    ck_assert_int_eq(dt_store_token_lookup(s, tok, &got), DT_ROLE_STAFF);
    ck_assert_int_eq(got, id);
    ck_assert_int_eq(dt_store_token_lookup(s, "dt_wrong", NULL), DT_ROLE_ANONYMOUS);
    ck_assert_int_eq(dt_store_token_create(s, DT_ROLE_UPLOADER, "u", "short", NULL, 0, NULL, NULL), DT_ERR_ARG);
    char sid[65];
    ck_assert_int_eq(dt_store_session_create(s, id, 60, sid, NULL), DT_OK);
    ck_assert_int_eq(dt_store_session_lookup(s, sid, &got), DT_ROLE_STAFF);
    dt_store_session_delete(s, sid);
    ck_assert_int_eq(dt_store_session_lookup(s, sid, &got), DT_ROLE_ANONYMOUS);
    remove_fresh(s);
}
END_TEST

START_TEST(upload_lease_finish_reuse)
{
    dt_store *s = open_fresh();
    dt_upload_new u = one_upload(SHA_A, SHA_B);
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    ck_assert_int_eq(u.reused, 0);
    ck_assert_int_eq(strlen(u.id), 24);
    ck_assert_int_eq(strlen(u.view_key), 48);
    ck_assert_int_eq(dt_store_queue_depth(s), 1);

    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "test", 60, &job), 1);
    ck_assert_int_eq(job.attempts, 1);
    ck_assert_int_eq(job.nfiles, 2);
    ck_assert_str_eq(job.files[0].sha256, SHA_A);
    ck_assert_str_eq(job.note, "stuck in the print dialog");
    ck_assert_int_eq(dt_store_job_lease(s, "test", 60, &(dt_job){ 0 }), 0);

    cJSON *root = cJSON_Parse(report_json);
    dt_report_index idx;
    dt_report_index_build(root, &idx);
    ck_assert_str_eq(idx.process, "C:\\Windows\\calc.exe");
    ck_assert_int_eq(idx.pid, 4242);
    ck_assert_str_eq(idx.bugcheck, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (0x1000007E)");
    ck_assert_int_eq(idx.thread_count, 2);
    ck_assert_int_eq(idx.nthreads, 2);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    job.upload_seq = ref.seq;
    ck_assert_int_eq(dt_store_job_finish(s, &job, report_json, &idx, 1234, NULL), DT_OK);
    /* A second finish of the same lease is refused (the job is done). */
    ck_assert_int_ne(dt_store_job_finish(s, &job, report_json, &idx, 1234, NULL), DT_OK);
    dt_report_index_free(&idx);
    cJSON_Delete(root);

    cJSON *o = dt_store_upload_json(s, ref.seq);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "status")->valuestring, "done");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "case_id")->valuestring, "CASE-42");
    cJSON *sum = cJSON_GetObjectItem(o, "summary");
    ck_assert_str_eq(cJSON_GetObjectItem(sum, "verdict")->valuestring, "deadlock");
    ck_assert_str_eq(cJSON_GetObjectItem(sum, "signature")->valuestring,
                     "calc.exe|deadlock|ntdll!NtWaitForSingleObject");
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "pid")->valueint, 4242);
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "thread_count")->valueint, 2);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "files")), 2);
    cJSON_Delete(o);
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    char *text = dt_store_report_text(s, ref.report_id);
    ck_assert_str_eq(text, report_json);
    free(text);
    cJSON *row = dt_store_thread_row(s, ref.report_id, 100);
    ck_assert_str_eq(cJSON_GetObjectItem(row, "name")->valuestring, "main");
    ck_assert_str_eq(cJSON_GetObjectItem(row, "state")->valuestring, "Waiting");
    ck_assert_str_eq(cJSON_GetObjectItem(row, "top_frame")->valuestring, "ntdll!NtWaitForSingleObject");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row, "stuck")));
    cJSON_Delete(row);

    /* The same pair again: the analysis is reused, no job queued. */
    dt_upload_new again = one_upload(SHA_A, SHA_B);
    ck_assert_int_eq(dt_store_upload_create(s, &again, NULL), DT_OK);
    ck_assert_int_eq(again.reused, 1);
    ck_assert_int_eq(dt_store_queue_depth(s), 0);
    dt_upload_ref ref2;
    ck_assert_int_eq(dt_store_upload_find(s, again.id, &ref2), 1);
    ck_assert_str_eq(ref2.status, "done");
    ck_assert_int_eq(ref2.report_id, ref.report_id);
    cJSON *sigs = dt_store_signatures(s, -1);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(sigs, "items"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(first, "count")->valueint, 2);
    cJSON_Delete(sigs);

    /* Search and filters. */
    dt_upload_filter f = { .q = "NtWaitFor", .owner_token_id = -1, .limit = 10 };
    cJSON *l = dt_store_upload_list(s, &f);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), 2);
    cJSON_Delete(l);
    dt_upload_filter f2 = { .q = "100%_", .owner_token_id = -1, .limit = 10 };
    l = dt_store_upload_list(s, &f2);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), 0);
    cJSON_Delete(l);
    dt_upload_filter f3 = { .owner_token_id = -1, .limit = 1 };
    l = dt_store_upload_list(s, &f3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), 1);
    const char *cursor = cJSON_GetObjectItem(l, "next_cursor")->valuestring;
    ck_assert_ptr_nonnull(cursor);
    f3.cursor = atoll(cursor);
    cJSON_Delete(l);
    l = dt_store_upload_list(s, &f3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), 1);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "next_cursor")));
    cJSON_Delete(l);

    /* Deleting one of two uploads that share blobs orphans nothing; deleting
     * the second orphans both blobs and drops the shared report. */
    char **orphans;
    size_t n;
    ck_assert_int_eq(dt_store_upload_delete(s, ref2.seq, &orphans, &n, NULL), DT_OK);
    ck_assert_int_eq(n, 0);
    free(orphans);
    ck_assert_int_eq(dt_store_upload_delete(s, ref.seq, &orphans, &n, NULL), DT_OK);
    ck_assert_int_eq(n, 2);
    for (size_t i = 0; i < n; i++)
        free(orphans[i]);
    free(orphans);
    ck_assert_ptr_null(dt_store_report_text(s, ref.report_id));
    remove_fresh(s);
}
END_TEST

START_TEST(failures_retry_and_recovery)
{
    dt_store *s = open_fresh();
    dt_upload_new u = one_upload(SHA_C, NULL);
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "w1", 60, &job), 1);
    /* A crash is retried once... */
    ck_assert_int_eq(dt_store_job_fail(s, &job, "crash", "signal 11", 1, NULL), DT_OK);
    ck_assert_int_eq(dt_store_queue_depth(s), 1);
    ck_assert_int_eq(dt_store_job_lease(s, "w1", 60, &job), 1);
    ck_assert_int_eq(job.attempts, 2);
    /* ...but not twice. */
    ck_assert_int_eq(dt_store_job_fail(s, &job, "crash", "signal 11", 1, NULL), DT_OK);
    ck_assert_int_eq(dt_store_queue_depth(s), 0);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "failed");
    cJSON *o = dt_store_upload_json(s, ref.seq);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "error")->valuestring, "crash: signal 11");
    cJSON_Delete(o);

    /* A lease held by a dead server comes back at start. */
    ck_assert_int_eq(dt_store_upload_reanalyze(s, ref.seq, NULL), DT_OK);
    ck_assert_int_eq(dt_store_job_lease(s, "dead", 600, &job), 1);
    ck_assert_int_eq(dt_store_requeue_expired(s, 0), 0); /* not expired yet */
    ck_assert_int_eq(dt_store_requeue_expired(s, 1), 1); /* start-up: all */
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "queued");
    /* The dead server's result no longer counts. */
    ck_assert_int_ne(dt_store_job_finish(s, &job, "{}", &(dt_report_index){ .thread_count = -1 }, 1, NULL), DT_OK);
    char *m = dt_store_metrics(s);
    ck_assert_ptr_nonnull(strstr(m, "dt_queue_depth 1\n"));
    ck_assert_ptr_nonnull(strstr(m, "dt_uploads 1\n"));
    free(m);
    remove_fresh(s);
}
END_TEST

/* Retention: purging keeps the row (API says purged), frees only blobs no
 * unpurged row names, and only finished uploads are candidates. */
START_TEST(retention_purge_shared_blob)
{
    dt_store *s = open_fresh();
    dt_upload_new old = one_upload(SHA_A, SHA_B);
    ck_assert_int_eq(dt_store_upload_create(s, &old, NULL), DT_OK);
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job), 1);
    ck_assert_int_eq(dt_store_job_finish(s, &job, report_json, &(dt_report_index){ .thread_count = -1 }, 1, NULL),
                     DT_OK);
    dt_upload_new newer = one_upload(SHA_A, NULL); /* shares the user dump only; stays queued */
    ck_assert_int_eq(dt_store_upload_create(s, &newer, NULL), DT_OK);
    ck_assert_int_eq(dt_store_dump_bytes(s), 36724 + 1444532);

    int64_t seqs[8];
    /* Only the finished upload can be purged; the queued one is being analyzed. */
    ck_assert_int_eq(dt_store_retention_uploads(s, INT64_MAX, 1, seqs, 8), 1);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, old.id, &ref), 1);
    ck_assert_int_eq(seqs[0], ref.seq);
    ck_assert_int_eq(dt_store_retention_uploads(s, INT64_MAX, 0, seqs, 8), 2);
    ck_assert_int_eq(dt_store_retention_uploads(s, 0, 0, seqs, 8), 0); /* none older than 1970 */

    dt_purge_result pr;
    ck_assert_int_eq(dt_store_upload_purge_files(s, ref.seq, 1000, "test", &pr, NULL), DT_OK);
    ck_assert_str_eq(pr.upload_id, old.id);
    ck_assert_int_eq(pr.files, 2);
    ck_assert_int_eq(pr.bytes, 36724 + 1444532);
    ck_assert_int_eq(pr.norphans, 1); /* the kernel dump; the user dump is still the newer upload's */
    ck_assert_str_eq(pr.orphans[0], SHA_B);
    dt_store_purge_free(&pr);
    ck_assert_int_eq(dt_store_blob_referenced(s, SHA_A), 1);
    ck_assert_int_eq(dt_store_blob_referenced(s, SHA_B), 0);
    ck_assert_int_eq(dt_store_dump_bytes(s), 36724);
    dt_file_rec f;
    ck_assert_int_eq(dt_store_file_get(s, ref.seq, "user", &f), 1);
    ck_assert_int_eq(f.purged, 1);
    ck_assert_str_eq(f.sha256, SHA_A); /* the row still says what was analyzed */
    cJSON *o = dt_store_upload_json(s, ref.seq);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "files"), 0), "purged")));
    ck_assert_str_eq(cJSON_GetObjectItem(o, "status")->valuestring, "done");
    cJSON_Delete(o);
    ck_assert_int_ne(ref.report_id, 0);
    char *text = dt_store_report_text(s, ref.report_id);
    ck_assert_ptr_nonnull(text);
    free(text);
    /* A second purge finds nothing left. */
    ck_assert_int_eq(dt_store_upload_purge_files(s, ref.seq, 1001, "test", &pr, NULL), DT_OK);
    ck_assert_int_eq(pr.files, 0);
    dt_store_purge_free(&pr);
    ck_assert_int_eq(dt_store_retention_uploads(s, INT64_MAX, 1, seqs, 8), 0);
    remove_fresh(s);
}
END_TEST

/* Text search: substrings of note, case, customer, report text and file
 * names, case-insensitive, through the trigram indexes (three characters or
 * more) or LIKE (shorter); the indexes follow inserts and deletes. */
static int search_count(dt_store *s, const char *q)
{
    dt_upload_filter f = { .q = q, .owner_token_id = -1, .limit = 50 };
    cJSON *l = dt_store_upload_list(s, &f);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(l, "items"));
    cJSON_Delete(l);
    return n;
}

START_TEST(search_indexes)
{
    dt_store *s = open_fresh();
    dt_upload_new a = one_upload(SHA_A, NULL);
    a.note = "hangs after login";
    a.case_id = "CASE-7";
    a.customer = "Contoso Ltd";
    ck_assert_int_eq(dt_store_upload_create(s, &a, NULL), DT_OK);
    dt_upload_new b = one_upload(SHA_C, NULL);
    b.note = "print dialog, 100% CPU";
    b.case_id = NULL;
    strcpy(b.files[0].name, "printer_hang.dmp");
    ck_assert_int_eq(dt_store_upload_create(s, &b, NULL), DT_OK);

    ck_assert_int_eq(search_count(s, "contoso"), 1);
    ck_assert_int_eq(search_count(s, "ntoso L"), 1);   /* across a word boundary */
    ck_assert_int_eq(search_count(s, "se-7"), 1);
    ck_assert_int_eq(search_count(s, "ER_HANG"), 1);   /* file name */
    ck_assert_int_eq(search_count(s, "calc.dmp"), 1);
    ck_assert_int_eq(search_count(s, SHA_C), 1);       /* a file's hash */
    ck_assert_int_eq(search_count(s, a.id), 1);        /* the upload id */
    ck_assert_int_eq(search_count(s, "100%"), 1);
    ck_assert_int_eq(search_count(s, "100%_"), 0);
    ck_assert_int_eq(search_count(s, "a\"b"), 0);      /* a quote is text */
    ck_assert_int_eq(search_count(s, "-7"), 1);        /* short: LIKE */
    ck_assert_int_eq(search_count(s, "%"), 1);
    ck_assert_int_eq(search_count(s, "dmp"), 2);
    ck_assert_int_eq(search_count(s, "nothing like it"), 0);

    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, a.id, &ref), 1);
    char **orphans;
    size_t n;
    ck_assert_int_eq(dt_store_upload_delete(s, ref.seq, &orphans, &n, NULL), DT_OK);
    for (size_t i = 0; i < n; i++)
        free(orphans[i]);
    free(orphans);
    ck_assert_int_eq(search_count(s, "contoso"), 0);
    ck_assert_int_eq(search_count(s, "calc.dmp"), 0);
    ck_assert_int_eq(search_count(s, "dmp"), 1);
    remove_fresh(s);
}
END_TEST

/* A distinct fake hash per upload (no two pairs alike: no reuse). */
static void sha_of(int i, char out[65])
{
    snprintf(out, 65, "%064x", 0x1000 + i);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One worker process: its own connection, leasing until the queue is
 * empty, finishing each job; every job id it got, and how long the claim
 * took (µs), goes to fd. */
static void worker_child(int fd, int w)
{
    dt_error err = { 0 };
    dt_store *s = dt_store_open(db, NULL, &err);
    if (!s)
        _exit(2);
    char owner[32];
    snprintf(owner, sizeof owner, "w%d", w);
    int idle = 0;
    while (idle < 3) {
        dt_job job;
        int64_t t0 = mono_us();
        int got = dt_store_job_lease(s, owner, 60, &job);
        int64_t took = mono_us() - t0;
        if (got < 0)
            _exit(3);
        if (got == 0) {
            idle++;
            usleep(20000);
            continue;
        }
        idle = 0;
        int64_t rec[2] = { job.job_id, took };
        if (write(fd, rec, sizeof rec) != sizeof rec)
            _exit(4);
        if (dt_store_job_finish(s, &job, report_json, &(dt_report_index){ .thread_count = -1 }, 1, &err) != DT_OK)
            _exit(5);
    }
    dt_store_close(s);
    _exit(0);
}

/* Four worker processes on one store: each of 60 jobs is leased exactly
 * once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE). */
START_TEST(workers_never_share_a_job)
{
    enum { JOBS = 60, WORKERS = 4 };
    dt_store *s = open_fresh();
    for (int i = 0; i < JOBS; i++) {
        char sha[65];
        sha_of(i, sha);
        dt_upload_new u = one_upload(sha, NULL);
        ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    }
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0) {
            close(p[0]);
            worker_child(p[1], w);
        }
    }
    close(p[1]);
    int64_t ids[JOBS * 2], us[JOBS * 2];
    int n = 0;
    int64_t rec[2];
    int64_t t0 = mono_us();
    while (read(p[0], rec, sizeof rec) == sizeof rec)
        if (n < JOBS * 2) {
            ids[n] = rec[0];
            us[n++] = rec[1];
        }
    int64_t wall = mono_us() - t0;
    close(p[0]);
    for (int w = 0; w < WORKERS; w++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d: status %d", w, status);
    }
    ck_assert_int_eq(n, JOBS);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            ck_assert_msg(ids[i] != ids[j], "job %lld leased twice", (long long)ids[i]);
    /* The figures (docs/server.md): claim latency and jobs per second with
     * an empty analysis, i.e. the store's own cost. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && us[j - 1] > us[j]; j--) {
            int64_t t = us[j];
            us[j] = us[j - 1];
            us[j - 1] = t;
        }
    fprintf(stderr, "store (%s): %d jobs leased and finished by %d processes in %lld ms (%.0f jobs/s); claim p50 %lld us, p99 %lld us\n",
            dt_store_is_shared(s) ? "PostgreSQL" : "SQLite", n, WORKERS, (long long)(wall / 1000),
            wall > 0 ? n * 1e6 / (double)wall : 0.0, (long long)us[n / 2], (long long)us[(n * 99) / 100]);
    ck_assert_int_eq(dt_store_queue_depth(s), 0);
    dt_upload_filter f = { .status = "done", .owner_token_id = -1, .limit = 200 };
    cJSON *l = dt_store_upload_list(s, &f);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), JOBS);
    cJSON_Delete(l);
    remove_fresh(s);
}
END_TEST

/* A worker killed (SIGKILL) while it holds a lease: the job is nobody's
 * until the lease runs out, then it is queued again, leased by another
 * worker (attempt 2) and finished; the dead worker's result would not
 * count.  A worker that heartbeats keeps its lease past the first expiry. */
START_TEST(killed_worker_lease_expires)
{
    dt_store *s = open_fresh();
    dt_upload_new u = one_upload(SHA_C, NULL);
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        dt_store *c = dt_store_open(db, NULL, NULL);
        dt_job job;
        if (!c || dt_store_job_lease(c, "doomed", 2, &job) != 1)
            _exit(1);
        if (write(p[1], &job, sizeof job) != sizeof job)
            _exit(1);
        raise(SIGKILL);
    }
    close(p[1]);
    dt_job dead;
    ck_assert_int_eq(read(p[0], &dead, sizeof dead), (ssize_t)sizeof dead);
    close(p[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "alive", 60, &job), 0); /* still leased to the dead one */
    ck_assert_int_eq(dt_store_requeue_expired(s, 0), 0);
    sleep(3);
    ck_assert_int_eq(dt_store_requeue_expired(s, 0), 1);
    ck_assert_int_eq(dt_store_job_heartbeat(s, dead.job_id, "doomed", 60), 0); /* lost */
    ck_assert_int_eq(dt_store_job_lease(s, "alive", 2, &job), 1);
    ck_assert_int_eq(job.job_id, dead.job_id);
    ck_assert_int_eq(job.attempts, 2);
    /* Heartbeats keep the new lease past its first expiry. */
    for (int i = 0; i < 3; i++) {
        sleep(1);
        ck_assert_int_eq(dt_store_job_heartbeat(s, job.job_id, "alive", 2), 1);
    }
    ck_assert_int_eq(dt_store_requeue_expired(s, 0), 0);
    ck_assert_int_eq(dt_store_job_heartbeat(s, job.job_id, "someone-else", 2), 0);
    ck_assert_int_eq(dt_store_job_finish(s, &job, report_json, &(dt_report_index){ .thread_count = -1 }, 1, NULL),
                     DT_OK);
    ck_assert_int_ne(dt_store_job_finish(s, &dead, report_json, &(dt_report_index){ .thread_count = -1 }, 1, NULL),
                     DT_OK);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "done");
    remove_fresh(s);
}
END_TEST

/* One job row as "state|owner|phase|attempts", read on a connection of
 * its own. */
static void job_row(int64_t job_id, char *out, size_t len)
{
    dt_error err = { 0 };
    dt_db *d = dt_db_open(db, &err);
    ck_assert_msg(d != NULL, "%s", err.message);
    dt_stmt *st = dt_db_prepare(d, "SELECT state, lease_owner, phase, attempts FROM jobs WHERE id = ?", &err);
    ck_assert_ptr_nonnull(st);
    dt_stmt_bind_int64(st, 1, job_id);
    ck_assert_int_eq(dt_stmt_step(st), DT_DB_ROW);
    snprintf(out, len, "%s|%s|%s|%lld", dt_stmt_text(st, 0), dt_stmt_text(st, 1) ? dt_stmt_text(st, 1) : "",
             dt_stmt_text(st, 2) ? dt_stmt_text(st, 2) : "", (long long)dt_stmt_int64(st, 3));
    dt_stmt_finalize(st);
    dt_db_close(d);
}

/* Worker A's lease runs out while it still works; worker B (its own
 * connection) claims the job.  Nothing A does afterwards may change the
 * job B holds: no requeue (drain), no phase, no archive files, no
 * failure, no result — each is refused, and the row stays B's. */
START_TEST(stale_worker_changes_nothing)
{
    dt_store *s = open_fresh();
    dt_upload_new u = one_upload(SHA_C, NULL);
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    dt_store *a = dt_store_open(db, NULL, NULL), *b = dt_store_open(db, NULL, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    dt_job ja, jb;
    ck_assert_int_eq(dt_store_job_lease(a, "worker-a", 1, &ja), 1);
    ck_assert_int_eq(dt_store_job_phase(a, &ja, "unpack", NULL), DT_OK);
    sleep(2);
    ck_assert_int_eq(dt_store_requeue_expired(b, 0), 1);
    ck_assert_int_eq(dt_store_job_lease(b, "worker-b", 60, &jb), 1);
    ck_assert_int_eq(jb.job_id, ja.job_id);
    ck_assert_int_eq(dt_store_job_phase(b, &jb, "analyze", NULL), DT_OK);
    char row[300];
    job_row(jb.job_id, row, sizeof row);
    ck_assert_str_eq(row, "leased|worker-b|analyze|2");

    /* A, unaware, goes on. */
    dt_error err = { 0 };
    ck_assert_int_eq(dt_store_job_requeue(a, &ja, &err), DT_ERR_NOT_FOUND);
    ck_assert_int_eq(dt_store_job_phase(a, &ja, "store", NULL), DT_ERR_NOT_FOUND);
    dt_file_rec extra = { .role = "kernel", .sha256 = SHA_A, .size = 1, .kind = "kernel64" };
    ck_assert_int_eq(dt_store_job_add_files(a, &ja, &extra, 1, NULL), DT_ERR_NOT_FOUND);
    ck_assert_int_eq(dt_store_job_fail(a, &ja, "crash", "signal 11", 1, NULL), DT_OK); /* recorded nothing */
    ck_assert_int_eq(dt_store_job_fail(a, &ja, "timeout", "too slow", 0, NULL), DT_OK);
    ck_assert_int_ne(dt_store_job_finish(a, &ja, report_json, &(dt_report_index){ .thread_count = -1 }, 1, NULL),
                     DT_OK);
    ck_assert_int_eq(dt_store_job_heartbeat(a, ja.job_id, "worker-a", 60), 0);
    job_row(jb.job_id, row, sizeof row);
    ck_assert_str_eq(row, "leased|worker-b|analyze|2");
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "analyzing");
    ck_assert_int_eq(dt_store_job_lease(a, "worker-a", 60, &ja), 0); /* nothing queued: B still has it */

    /* B's own changes all count. */
    ck_assert_int_eq(dt_store_job_add_files(b, &jb, &extra, 1, NULL), DT_OK);
    ck_assert_int_eq(dt_store_job_phase(b, &jb, "store", NULL), DT_OK);
    ck_assert_int_eq(dt_store_job_finish(b, &jb, report_json, &(dt_report_index){ .thread_count = -1 }, 1, NULL),
                     DT_OK);
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "done");
    cJSON *o = dt_store_upload_json(s, ref.seq);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "files")), 2); /* user + B's kernel */
    cJSON_Delete(o);
    dt_store_close(a);
    dt_store_close(b);
    remove_fresh(s);
}
END_TEST

/* A drain gives the job back: the holder's requeue queues it again
 * without counting the attempt; a second requeue (no longer held) is
 * refused. */
START_TEST(drain_requeue_by_holder)
{
    dt_store *s = open_fresh();
    dt_upload_new u = one_upload(SHA_C, NULL);
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    dt_job j;
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &j), 1);
    ck_assert_int_eq(dt_store_job_requeue(s, &j, NULL), DT_OK);
    char row[300];
    job_row(j.job_id, row, sizeof row);
    ck_assert_str_eq(row, "queued|||0");
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "queued");
    ck_assert_int_eq(dt_store_job_requeue(s, &j, NULL), DT_ERR_NOT_FOUND);
    remove_fresh(s);
}
END_TEST

/* Two transactions that lock two rows in opposite orders.  On PostgreSQL
 * this is a deadlock: the server aborts one of them (SQLSTATE 40P01) and
 * dt_db_transaction runs it again, so both commit and each row got both
 * increments; without the retry one of them fails.  On SQLite the second
 * waits at BEGIN IMMEDIATE: no deadlock, no retry, the same result. */
typedef struct {
    dt_db *d;
    int first, second; /* the rows, in this side's order */
    int tell, hear;    /* pipe ends to the other side */
    int runs;
} crossing_ctx;

static dt_status bump(dt_db *d, int row, dt_error *err)
{
    dt_stmt *st = dt_db_prepare(d, "UPDATE counters SET n = n + 1 WHERE id = ?", err);
    if (!st)
        return DT_ERR_IO;
    dt_stmt_bind_int64(st, 1, row);
    int rc = dt_stmt_step(st);
    dt_stmt_finalize(st);
    return rc == DT_DB_DONE ? DT_OK : dt_error_set(err, DT_ERR_IO, "%s", dt_db_errmsg(d));
}

static dt_status crossing_body(void *p, dt_error *err)
{
    crossing_ctx *c = p;
    if (bump(c->d, c->first, err) != DT_OK)
        return DT_ERR_IO;
    if (c->runs++ == 0) {
        /* First run only: both sides hold their first row before either
         * asks for its second (a later run must not wait for a partner
         * that has finished; 3 s, since on SQLite the partner waits at
         * BEGIN and never answers). */
        char b = 1;
        if (write(c->tell, &b, 1) != 1)
            return DT_ERR_IO;
        struct pollfd pf = { .fd = c->hear, .events = POLLIN };
        if (poll(&pf, 1, 3000) == 1 && read(c->hear, &b, 1) != 1)
            return DT_ERR_IO;
    }
    return bump(c->d, c->second, err);
}

START_TEST(deadlock_is_retried)
{
    dt_store *s = open_fresh();
    dt_error err = { 0 };
    dt_db *d = dt_db_open(db, &err);
    ck_assert_msg(d != NULL, "%s", err.message);
    ck_assert_int_eq(dt_db_exec(d, "CREATE TABLE counters(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
                                   " INSERT INTO counters VALUES (1, 0), (2, 0)", &err), DT_OK);
    int ab[2], ba[2], res[2];
    ck_assert_int_eq(pipe(ab), 0);
    ck_assert_int_eq(pipe(ba), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dt_db *c = dt_db_open(db, NULL);
        crossing_ctx ctx = { c, 2, 1, ba[1], ab[0], 0 };
        int64_t out[2] = { c && dt_db_transaction(c, crossing_body, &ctx, NULL) == DT_OK, c ? dt_db_retries(c) : -1 };
        if (write(res[1], out, sizeof out) != sizeof out)
            _exit(1);
        _exit(0);
    }
    crossing_ctx ctx = { d, 1, 2, ab[1], ba[0], 0 };
    dt_status mine = dt_db_transaction(d, crossing_body, &ctx, &err);
    int64_t theirs[2] = { 0, 0 };
    ck_assert_int_eq(read(res[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(mine == DT_OK, "this side: %s", err.message);
    ck_assert_msg(theirs[0] == 1, "the other side's transaction failed");
    int64_t retries = dt_db_retries(d) + theirs[1];
    fprintf(stderr, "store (%s): crossing transactions: %lld retried\n", dt_store_is_shared(s) ? "PostgreSQL" : "SQLite",
            (long long)retries);
    ck_assert_int_eq(retries, dt_store_is_shared(s) ? 1 : 0);
    dt_stmt *st = dt_db_prepare(d, "SELECT SUM(n) FROM counters", NULL);
    ck_assert_int_eq(dt_stmt_step(st), DT_DB_ROW);
    ck_assert_int_eq(dt_stmt_int64(st, 0), 4);
    dt_stmt_finalize(st);
    dt_db_close(d);
    for (int i = 0; i < 2; i++) {
        close(ab[i]);
        close(ba[i]);
        close(res[i]);
    }
    remove_fresh(s);
}
END_TEST

/* A single statement outside a transaction that PostgreSQL aborts with a
 * serialization failure (db_pg.c runs it again by itself).  This side's
 * session runs its statements at REPEATABLE READ; another connection (a
 * child process) has updated row 2 in an open transaction, this side's
 * `UPDATE counters SET n = n + 1` takes its snapshot and waits for row 2,
 * the other side then commits, and the statement fails with SQLSTATE
 * 40001 (the row changed after its snapshot).  Run again with a fresh
 * snapshot, it passes: exactly one retry, both rows incremented once more.
 * PostgreSQL only: SQLite has no row locks. */
START_TEST(single_statement_conflict_is_retried)
{
    dt_store *s = open_fresh();
    if (!dt_store_is_shared(s)) {
        remove_fresh(s);
        return;
    }
    dt_error err = { 0 };
    dt_db *d = dt_db_open(db, &err);
    ck_assert_msg(d != NULL, "%s", err.message);
    ck_assert_int_eq(dt_db_exec(d, "CREATE TABLE counters(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
                                   " INSERT INTO counters VALUES (1, 0), (2, 0)", &err), DT_OK);
    ck_assert_int_eq(dt_db_exec(d, "SET default_transaction_isolation = 'repeatable read'", &err), DT_OK);
    int held[2], res[2];
    ck_assert_int_eq(pipe(held), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dt_db *c = dt_db_open(db, NULL);
        int ok = c && dt_db_begin(c, NULL) == DT_OK && bump(c, 2, NULL) == DT_OK;
        char b = (char)ok;
        if (write(held[1], &b, 1) != 1)
            _exit(1);
        /* Until the statement waits for row 2 (10 s at most). */
        int waiting = 0;
        for (int i = 0; ok && !waiting && i < 200; i++) {
            dt_stmt *st = dt_db_prepare(c, "SELECT COUNT(*) FROM pg_locks WHERE NOT granted", NULL);
            waiting = st && dt_stmt_step(st) == DT_DB_ROW && dt_stmt_int64(st, 0) > 0;
            dt_stmt_finalize(st);
            if (!waiting)
                usleep(50000);
        }
        ok = ok && waiting && dt_db_commit(c, NULL) == DT_OK;
        b = (char)ok;
        if (write(res[1], &b, 1) != 1)
            _exit(1);
        _exit(0);
    }
    char b = 0;
    ck_assert_int_eq(read(held[0], &b, 1), 1);
    ck_assert_msg(b == 1, "the other side could not lock row 2");
    int64_t before = dt_db_retries(d);
    dt_stmt *st = dt_db_prepare(d, "UPDATE counters SET n = n + 1", &err);
    ck_assert_ptr_nonnull(st);
    int rc = dt_stmt_step(st);
    ck_assert_msg(rc == DT_DB_DONE, "the statement failed: %s", dt_db_errmsg(d));
    ck_assert_int_eq(dt_db_changes(d), 2);
    dt_stmt_finalize(st);
    ck_assert_int_eq(read(res[0], &b, 1), 1);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(b == 1, "the other side's transaction failed");
    int64_t retries = dt_db_retries(d) - before;
    fprintf(stderr, "store (PostgreSQL): a statement that met a serialization failure: %lld retried\n",
            (long long)retries);
    ck_assert_int_eq(retries, 1);
    st = dt_db_prepare(d, "SELECT n FROM counters ORDER BY id", NULL);
    ck_assert_int_eq(dt_stmt_step(st), DT_DB_ROW);
    ck_assert_int_eq(dt_stmt_int64(st, 0), 1);
    ck_assert_int_eq(dt_stmt_step(st), DT_DB_ROW);
    ck_assert_int_eq(dt_stmt_int64(st, 0), 2);
    dt_stmt_finalize(st);
    dt_db_close(d);
    for (int i = 0; i < 2; i++) {
        close(held[i]);
        close(res[i]);
    }
    remove_fresh(s);
}
END_TEST

/* Servers and workers starting together on one new store: every process
 * opens it and the migrations are applied once (PostgreSQL: under the
 * advisory lock; SQLite: checked again inside BEGIN IMMEDIATE). */
START_TEST(concurrent_starts_migrate_once)
{
    enum { PROCS = 6 };
    dt_test_store_target("store", dir, sizeof dir, db, sizeof db);
    char mig[1024];
    dt_test_migrations_dir(mig, sizeof mig);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            dt_error err = { 0 };
            dt_store *c = dt_store_open(db, mig, &err);
            if (!c) {
                fprintf(stderr, "start %d: %s\n", i, err.message);
                _exit(1);
            }
            dt_store_close(c);
            _exit(0);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "start %d failed", i);
    }
    dt_store *s = dt_store_open(db, NULL, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(dt_store_migration_count(s), 8);
    remove_fresh(s);
}
END_TEST

/* The pool hands the same connection to the next request, keeps at most
 * its limit idle, and each connection it hands out works. */
START_TEST(pool_reuses_connections)
{
    dt_store *s = open_fresh();
    dt_store_pool *p = dt_store_pool_new(db, 1);
    ck_assert_ptr_nonnull(p);
    dt_store *a = dt_store_pool_take(p, NULL);
    dt_store *b = dt_store_pool_take(p, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_int_eq(dt_store_migration_count(a), 8);
    dt_store_pool_give(p, a);
    dt_store_pool_give(p, b); /* over the limit: closed */
    dt_store *c = dt_store_pool_take(p, NULL);
    ck_assert_ptr_eq(c, a);
    ck_assert_int_eq(dt_store_migration_count(c), 8);
    dt_store_pool_give(p, c);
    dt_store_pool_free(p);
    remove_fresh(s);
}
END_TEST

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An idle worker waiting on another connection is woken by the queued
 * job's NOTIFY as soon as the upload commits (PostgreSQL), long before
 * its 10 s timeout; nothing else wakes it.  SQLite cannot wait (-1: the
 * caller polls). */
START_TEST(queued_job_wakes_waiting_worker)
{
    dt_store *s = open_fresh();
    if (!dt_store_is_shared(s)) {
        ck_assert_int_eq(dt_store_wait_for_jobs(s, 10), -1);
        remove_fresh(s);
        return;
    }
    dt_store *w = dt_store_open(db, NULL, NULL);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(dt_store_wait_for_jobs(w, 50), 0); /* listening now; nothing queued */
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Another process (an API server) queues a job half a second later. */
        close(p[0]);
        usleep(500000);
        dt_store *c = dt_store_open(db, NULL, NULL);
        dt_upload_new u = one_upload(SHA_C, NULL);
        int64_t t = mono_ms();
        if (!c || dt_store_upload_create(c, &u, NULL) != DT_OK)
            _exit(1);
        if (write(p[1], &t, sizeof t) != sizeof t)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    int64_t t0 = mono_ms();
    int r = dt_store_wait_for_jobs(w, 10000);
    int64_t woke = mono_ms();
    int64_t queued = 0;
    ck_assert_int_eq(read(p[0], &queued, sizeof queued), (ssize_t)sizeof queued);
    close(p[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(r, 1);
    ck_assert_msg(woke - t0 < 5000, "woken after %lld ms", (long long)(woke - t0));
    fprintf(stderr, "store: NOTIFY woke the waiting worker %lld ms after the upload began to commit\n",
            (long long)(woke - queued));
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(w, "w", 60, &job), 1);
    /* Consumed: the next wait times out. */
    ck_assert_int_eq(dt_store_wait_for_jobs(w, 100), 0);
    dt_store_close(w);
    remove_fresh(s);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, migrations_apply_once);
    tcase_add_test(tc, tokens_and_sessions);
    tcase_add_test(tc, upload_lease_finish_reuse);
    tcase_add_test(tc, failures_retry_and_recovery);
    tcase_add_test(tc, retention_purge_shared_blob);
    tcase_add_test(tc, search_indexes);
    tcase_add_test(tc, workers_never_share_a_job);
    tcase_add_test(tc, killed_worker_lease_expires);
    tcase_add_test(tc, stale_worker_changes_nothing);
    tcase_add_test(tc, drain_requeue_by_holder);
    tcase_add_test(tc, deadlock_is_retried);
    tcase_add_test(tc, single_statement_conflict_is_retried);
    tcase_add_test(tc, concurrent_starts_migrate_once);
    tcase_add_test(tc, pool_reuses_connections);
    tcase_add_test(tc, queued_job_wakes_waiting_worker);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(store_suite)
