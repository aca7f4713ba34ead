/*
 * test_server_limits.c — the per-client limit table (server/ratelimit.c):
 * token-bucket upload rates with Retry-After, in-flight byte budgets, the
 * backoff of failed credential guesses; the worker's public failure
 * messages (no server paths shown to view-link holders); and in the store
 * (store_jobs.c): the per-submitter queue count, leasing in turns between
 * submitters, and a job that took the server down twice being failed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "ratelimit.h"
#include "store.h"
#include "worker.h"

static char dir[256];

static dt_store *open_fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/dt-test-limits.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char db[300], mig[1024];
    snprintf(db, sizeof db, "%s/db.sqlite", dir);
    snprintf(mig, sizeof mig, "%s/migrations", getenv("DT_SOURCE_DIR") ? getenv("DT_SOURCE_DIR") : ".");
    dt_error err = { 0 };
    dt_store *s = dt_store_open(db, mig, &err);
    ck_assert_msg(s != NULL, "open: %s", err.message);
    return s;
}

static void remove_fresh(dt_store *s)
{
    dt_store_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A queued upload of distinct content from submitter; its id into id. */
static void queue_from(dt_store *s, const char *submitter, int n, char id[33])
{
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    dt_file_rec *f = &u.files[u.nfiles++];
    strcpy(f->role, "user");
    snprintf(f->sha256, sizeof f->sha256, "%064d", n);
    f->size = 100;
    strcpy(f->kind, "minidump");
    dt_error err = { 0 };
    ck_assert_int_eq(dt_store_upload_create(s, &u, &err), DT_OK);
    ck_assert_int_eq(dt_store_job_set_submitter(s, u.id, submitter, &err), DT_OK);
    strcpy(id, u.id);
}

static dt_ratelimit *make(unsigned rate, uint64_t inflight, unsigned auth_free, unsigned backoff_max)
{
    dt_ratelimit_config c = { rate, inflight, auth_free, backoff_max };
    dt_ratelimit *rl = NULL;
    ck_assert_int_eq(dt_ratelimit_new(&c, &rl, NULL), DT_OK);
    return rl;
}

START_TEST(upload_rate_is_a_bucket)
{
    dt_ratelimit *rl = make(60, 0, 5, 300); /* one a second, burst 60 */
    dt_limit_kind why;
    unsigned wait;
    for (int i = 0; i < 60; i++) {
        ck_assert(dt_ratelimit_upload_begin(rl, "ip:1.2.3.4", 0, 1000, &why, &wait));
        dt_ratelimit_upload_end(rl, "ip:1.2.3.4", 0);
    }
    ck_assert(!dt_ratelimit_upload_begin(rl, "ip:1.2.3.4", 0, 1000, &why, &wait));
    ck_assert_int_eq(why, DT_LIMIT_UPLOAD_RATE);
    ck_assert_uint_eq(wait, 1);
    /* Another client has its own bucket. */
    ck_assert(dt_ratelimit_upload_begin(rl, "t:7", 0, 1000, &why, &wait));
    /* A second later one token is back. */
    ck_assert(dt_ratelimit_upload_begin(rl, "ip:1.2.3.4", 0, 2001, &why, &wait));
    ck_assert(!dt_ratelimit_upload_begin(rl, "ip:1.2.3.4", 0, 2001, &why, &wait));
    ck_assert_uint_eq(dt_ratelimit_throttled(rl, DT_LIMIT_UPLOAD_RATE), 2);
    dt_ratelimit_free(rl);
}
END_TEST

START_TEST(inflight_budget_beyond_the_first_upload)
{
    dt_ratelimit *rl = make(0, 1000, 5, 300);
    dt_limit_kind why;
    unsigned wait;
    /* The first upload may be larger than the budget on its own. */
    ck_assert(dt_ratelimit_upload_begin(rl, "ip:a", 5000, 0, &why, &wait));
    ck_assert(!dt_ratelimit_upload_begin(rl, "ip:a", 10, 0, &why, &wait));
    ck_assert_int_eq(why, DT_LIMIT_INFLIGHT);
    ck_assert_uint_gt(wait, 0);
    dt_ratelimit_upload_end(rl, "ip:a", 5000);
    /* Two small ones, then one growing past the budget while the other runs. */
    ck_assert(dt_ratelimit_upload_begin(rl, "ip:a", 100, 0, &why, &wait));
    ck_assert(dt_ratelimit_upload_begin(rl, "ip:a", 100, 0, &why, &wait));
    ck_assert(dt_ratelimit_upload_grow(rl, "ip:a", 100, 700));
    ck_assert(!dt_ratelimit_upload_grow(rl, "ip:a", 800, 200));
    dt_ratelimit_upload_end(rl, "ip:a", 800);
    dt_ratelimit_upload_end(rl, "ip:a", 100);
    ck_assert(dt_ratelimit_upload_begin(rl, "ip:a", 900, 0, &why, &wait));
    dt_ratelimit_free(rl);
}
END_TEST

START_TEST(auth_backoff_doubles_and_is_forgotten)
{
    dt_ratelimit *rl = make(0, 0, 3, 4);
    unsigned wait;
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++) {
        ck_assert(!dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
        dt_ratelimit_auth_failed(rl, "ip:x", DT_AUTH_TOKEN, t);
    }
    ck_assert(!dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
    dt_ratelimit_auth_failed(rl, "ip:x", DT_AUTH_LOGIN, t); /* 4th: 1 s */
    ck_assert(dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
    ck_assert_uint_eq(wait, 1);
    ck_assert(!dt_ratelimit_auth_blocked(rl, "ip:y", t, &wait)); /* others unaffected */
    t += 1001;
    ck_assert(!dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
    dt_ratelimit_auth_failed(rl, "ip:x", DT_AUTH_VIEW_KEY, t); /* 5th: 2 s */
    ck_assert(dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
    ck_assert_uint_eq(wait, 2);
    for (int i = 0; i < 40; i++)
        dt_ratelimit_auth_failed(rl, "ip:x", DT_AUTH_TOKEN, t);
    ck_assert(dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
    ck_assert_uint_eq(wait, 4); /* capped */
    /* Quiet for 15 minutes: the count starts again. */
    t += 16 * 60 * 1000;
    dt_ratelimit_auth_failed(rl, "ip:x", DT_AUTH_TOKEN, t);
    ck_assert(!dt_ratelimit_auth_blocked(rl, "ip:x", t, &wait));
    char text[2048];
    dt_ratelimit_metrics(rl, text, sizeof text);
    ck_assert_ptr_nonnull(strstr(text, "dt_auth_failures_total{kind=\"token\"} 44\n"));
    ck_assert_ptr_nonnull(strstr(text, "dt_auth_failures_total{kind=\"login\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "dt_throttled_total{reason=\"auth_backoff\"} 3\n"));
    dt_ratelimit_free(rl);
}
END_TEST

START_TEST(table_stays_bounded)
{
    dt_ratelimit *rl = make(1, 0, 1, 300);
    dt_limit_kind why;
    unsigned wait;
    char key[64];
    /* Far more clients than slots: never refused for lack of room. */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "ip:10.0.%d.%d", i / 256, i % 256);
        ck_assert(dt_ratelimit_upload_begin(rl, key, 0, 1000 + i, &why, &wait));
        dt_ratelimit_upload_end(rl, key, 0);
    }
    dt_ratelimit_free(rl);
}
END_TEST

START_TEST(public_messages_name_no_server_path)
{
    dt_file_rec files[2];
    memset(files, 0, sizeof files);
    strcpy(files[0].role, "user");
    strcpy(files[0].sha256, "95a8460000000000000000000000000000000000000000000000000000000001");
    strcpy(files[0].name, "calc.dmp");
    strcpy(files[1].role, "kernel");
    strcpy(files[1].sha256, "1200000000000000000000000000000000000000000000000000000000000002");
    char up[1200], kp[1200], msg[2600];
    ck_assert_int_eq(dt_blob_path("/srv/dt/data", files[0].sha256, up, sizeof up), 0);
    ck_assert_int_eq(dt_blob_path("/srv/dt/data", files[1].sha256, kp, sizeof kp), 0);
    snprintf(msg, sizeof msg, "dumptriage: %s: minidump header truncated (and %s; see /srv/dt/data/tmp/x)", up, kp);
    dt_worker_public_message("/srv/dt/data", files, 2, msg, sizeof msg);
    ck_assert_str_eq(msg, "dumptriage: calc.dmp: minidump header truncated (and the kernel dump; see <data>/tmp/x)");
}
END_TEST

START_TEST(queue_share_and_turns)
{
    dt_store *s = open_fresh();
    char ids[8][33], other[33];
    for (int i = 0; i < 6; i++)
        queue_from(s, "ip:10.0.0.1", i + 1, ids[i]);
    queue_from(s, "t:7", 100, other);
    ck_assert_int_eq(dt_store_queue_depth_for(s, "ip:10.0.0.1"), 6);
    ck_assert_int_eq(dt_store_queue_depth_for(s, "t:7"), 1);
    /* Two workers: the flooding client's oldest, then — though five more
     * of its jobs are older — the other client's. */
    dt_job a, b, c;
    ck_assert_int_eq(dt_store_job_lease(s, "w1", 60, &a), 1);
    ck_assert_str_eq(a.upload_id, ids[0]);
    ck_assert_int_eq(dt_store_job_lease(s, "w2", 60, &b), 1);
    ck_assert_str_eq(b.upload_id, other);
    ck_assert_int_eq(dt_store_job_lease(s, "w3", 60, &c), 1);
    ck_assert_str_eq(c.upload_id, ids[1]);
    ck_assert_int_eq(dt_store_queue_depth_for(s, "ip:10.0.0.1"), 4);
    remove_fresh(s);
}
END_TEST

START_TEST(server_deaths_fail_the_job)
{
    dt_store *s = open_fresh();
    char id[33], id2[33];
    queue_from(s, "ip:a", 1, id);
    queue_from(s, "ip:b", 2, id2);
    dt_job job, job2;
    /* Killed while analyzing (a child's work): requeued, not charged. */
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job), 1);
    ck_assert_int_eq(dt_store_job_phase(s, &job, "analyze", NULL), DT_OK);
    ck_assert_int_eq(dt_store_requeue_expired(s, 1), 1);
    /* Killed twice while the server stored its report: failed. */
    for (int death = 1; death <= 2; death++) {
        ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job), 1);
        ck_assert_str_eq(job.upload_id, id);
        ck_assert_int_eq(dt_store_job_phase(s, &job, "store", NULL), DT_OK);
        ck_assert_int_eq(dt_store_requeue_expired(s, 1), death == 1 ? 1 : 0);
    }
    dt_upload_ref ref;
    ck_assert(dt_store_upload_find(s, id, &ref));
    ck_assert_str_eq(ref.status, "failed");
    cJSON *o = dt_store_upload_json(s, ref.seq);
    const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strncmp(e, "server_died: the server stopped 2 times", 39) == 0, "error: %s", e);
    cJSON_Delete(o);
    /* Leased 8 times, whatever the phase: failed too. */
    for (int i = 1; i <= 8; i++) {
        ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job2), 1);
        ck_assert_str_eq(job2.upload_id, id2);
        ck_assert_int_eq(dt_store_requeue_expired(s, 1), i < 8 ? 1 : 0);
    }
    ck_assert(dt_store_upload_find(s, id2, &ref));
    ck_assert_str_eq(ref.status, "failed");
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job2), 0);
    remove_fresh(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("server_limits");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, upload_rate_is_a_bucket);
    tcase_add_test(tc, inflight_budget_beyond_the_first_upload);
    tcase_add_test(tc, auth_backoff_doubles_and_is_forgotten);
    tcase_add_test(tc, table_stays_bounded);
    tcase_add_test(tc, public_messages_name_no_server_path);
    tcase_add_test(tc, queue_share_and_turns);
    tcase_add_test(tc, server_deaths_fail_the_job);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
