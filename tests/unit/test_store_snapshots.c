/*
 * test_store_snapshots.c — later snapshots added to an upload
 * (store_snapshots.h, POST /api/dumps/{id}/snapshots): the "is it being
 * analysed?" check and the insert are one transaction.
 *
 * The race the API once had — status read, then the files added in a
 * transaction of their own, so an analysis could start in between and a
 * second job of the upload be queued beside the running one — is made
 * deterministic here: a second connection starts a lease's write (the
 * upload marked analyzing) and holds its transaction open while the
 * snapshots are being added; the add must wait for it and then refuse,
 * changing nothing.  Also: refused while analysed, added (one queued job,
 * never two), all-or-none at the cap.
 *
 * On SQLite by default; with DT_TEST_PG_SOCK (a PostgreSQL socket directory,
 * tests/integration/test_store_snapshots_pg.sh) on a fresh PostgreSQL
 * database: the same assertions hold for both engines.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dt_test.h"
#include "store_fixture.h"
#include "store.h"
#include "store_snapshots.h"

static char dir[256];
static char db[600];

static dt_store *open_fresh(void) { return dt_test_store_fresh("snap", dir, sizeof dir, db, sizeof db); }

static void remove_fresh(dt_store *s) { dt_test_store_remove(s, dir); }

static dt_file_rec user_file(char digit, const char *name)
{
    dt_file_rec f;
    memset(&f, 0, sizeof f);
    strcpy(f.role, "user");
    memset(f.sha256, digit, 64);
    f.size = 1000;
    strcpy(f.kind, "minidump");
    snprintf(f.name, sizeof f.name, "%s", name);
    return f;
}

/* A new upload of one user dump (its job queued); its seq. */
static int64_t new_upload(dt_store *s, char digit)
{
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    u.files[u.nfiles++] = user_file(digit, "first.dmp");
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(s, u.id, &ref), 1);
    return ref.seq;
}

static int file_count(dt_store *s, int64_t seq)
{
    cJSON *o = dt_store_upload_json(s, seq);
    ck_assert_ptr_nonnull(o);
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "files"));
    cJSON_Delete(o);
    return n;
}

static void status_of(dt_store *s, int64_t seq, char *out, size_t len)
{
    cJSON *o = dt_store_upload_json(s, seq);
    ck_assert_ptr_nonnull(o);
    snprintf(out, len, "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")));
    cJSON_Delete(o);
}

START_TEST(added_once_with_one_queued_job)
{
    dt_store *s = open_fresh();
    int64_t seq = new_upload(s, 'a');
    ck_assert_int_eq(dt_store_queue_depth(s), 1);
    dt_file_rec add = user_file('b', "second.dmp");
    dt_snapshots_outcome o = DT_SNAPSHOTS_FULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_store_snapshots_add(s, seq, &add, 1, 8, &o, &err) == DT_OK, "%s", err.message);
    ck_assert_int_eq(o, DT_SNAPSHOTS_ADDED);
    ck_assert_int_eq(file_count(s, seq), 2);
    ck_assert_int_eq(dt_store_queue_depth(s), 1); /* the queued job takes the new file too */
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job), 1);
    ck_assert_int_eq(job.nfiles, 2);
    ck_assert_str_eq(job.files[1].name, "second.dmp");
    remove_fresh(s);
}
END_TEST

START_TEST(refused_while_analysed)
{
    dt_store *s = open_fresh();
    int64_t seq = new_upload(s, 'a');
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(s, "w", 60, &job), 1);
    dt_file_rec add = user_file('b', "second.dmp");
    dt_snapshots_outcome o = DT_SNAPSHOTS_ADDED;
    dt_error err = { 0 };
    ck_assert_msg(dt_store_snapshots_add(s, seq, &add, 1, 8, &o, &err) == DT_OK, "%s", err.message);
    ck_assert_int_eq(o, DT_SNAPSHOTS_ANALYZING);
    ck_assert_int_eq(file_count(s, seq), 1);
    ck_assert_int_eq(dt_store_queue_depth(s), 0); /* no second job beside the running one */
    char st[16];
    status_of(s, seq, st, sizeof st);
    ck_assert_str_eq(st, "analyzing");
    remove_fresh(s);
}
END_TEST

typedef struct {
    dt_store *s;
    int64_t seq;
    dt_snapshots_outcome outcome;
    dt_status status;
    atomic_bool done;
} add_call;

static void *add_thread(void *arg)
{
    add_call *c = arg;
    dt_file_rec add = user_file('b', "second.dmp");
    dt_error err = { 0 };
    c->status = dt_store_snapshots_add(c->s, c->seq, &add, 1, 8, &c->outcome, &err);
    atomic_store(&c->done, true);
    return NULL;
}

START_TEST(an_analysis_starting_meanwhile_wins)
{
    dt_store *s = open_fresh();
    int64_t seq = new_upload(s, 'a');
    /* Another worker's lease, caught between its first write (the upload
     * marked analyzing) and its commit. */
    dt_error err = { 0 };
    dt_db *lease = dt_db_open(db, &err);
    ck_assert_msg(lease != NULL, "%s", err.message);
    ck_assert_msg(dt_db_begin(lease, &err) == DT_OK, "%s", err.message);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE jobs SET state = 'leased' WHERE upload_seq = %lld", (long long)seq);
    ck_assert_msg(dt_db_exec(lease, sql, &err) == DT_OK, "%s", err.message);
    snprintf(sql, sizeof sql, "UPDATE uploads SET status = 'analyzing' WHERE seq = %lld", (long long)seq);
    ck_assert_msg(dt_db_exec(lease, sql, &err) == DT_OK, "%s", err.message);

    add_call c = { .s = s, .seq = seq, .outcome = DT_SNAPSHOTS_ADDED, .status = DT_ERR_IO };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, add_thread, &c), 0);
    nanosleep(&(struct timespec){ 0, 400 * 1000 * 1000 }, NULL);
    /* The add waits for the lease's transaction: it read no status before. */
    ck_assert(!atomic_load(&c.done));
    ck_assert_msg(dt_db_commit(lease, &err) == DT_OK, "%s", err.message);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    dt_db_close(lease);
    ck_assert_int_eq(c.status, DT_OK);
    ck_assert_int_eq(c.outcome, DT_SNAPSHOTS_ANALYZING);
    ck_assert_int_eq(file_count(s, seq), 1);
    ck_assert_int_eq(dt_store_queue_depth(s), 0);
    remove_fresh(s);
}
END_TEST

START_TEST(all_or_none_at_the_cap)
{
    dt_store *s = open_fresh();
    int64_t seq = new_upload(s, 'a');
    dt_file_rec add[2] = { user_file('b', "b.dmp"), user_file('c', "c.dmp") };
    dt_snapshots_outcome o = DT_SNAPSHOTS_ADDED;
    dt_error err = { 0 };
    ck_assert_msg(dt_store_snapshots_add(s, seq, add, 2, 2, &o, &err) == DT_OK, "%s", err.message);
    ck_assert_int_eq(o, DT_SNAPSHOTS_FULL);
    ck_assert_int_eq(file_count(s, seq), 1); /* b.dmp, under the cap, was rolled back with c.dmp */
    remove_fresh(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_snapshots");
    TCase *tc = tcase_create("store_snapshots");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, added_once_with_one_queued_job);
    tcase_add_test(tc, refused_while_analysed);
    tcase_add_test(tc, an_analysis_starting_meanwhile_wins);
    tcase_add_test(tc, all_or_none_at_the_cap);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
