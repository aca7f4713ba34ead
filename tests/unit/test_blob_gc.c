/*
 * test_blob_gc.c — a blob shared by a deleted upload and a new upload of the
 * same content survives.  The interleaving that used to lose the new
 * upload's file is forced step by step: the new upload has placed its blob
 * (found identical content already stored) but not yet committed its row
 * when the deleter checks "unreferenced?" and unlinks.  With the blob lock
 * the deleter must wait for the row, see it, and keep the file.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "blob_gc.h"
#include "dt_test.h"
#include "store.h"

static char dir[256];
static char db[300];
static char mig[1024];

static dt_store *open_store(void)
{
    dt_error err = { 0 };
    dt_store *s = dt_store_open(db, mig, &err);
    ck_assert_msg(s != NULL, "open: %s", err.message);
    return s;
}

static void fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/dt-test-blobgc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/db.sqlite", dir);
    snprintf(mig, sizeof mig, "%s/migrations", getenv("DT_SOURCE_DIR") ? getenv("DT_SOURCE_DIR") : ".");
    ck_assert_int_eq(dt_blob_prepare_dirs(dir, NULL), DT_OK);
}

static void cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Spools the bytes and seals them; the caller places or aborts. */
static void spool_bytes(dt_spool *sp, const unsigned char *data, size_t len, char sha[65])
{
    ck_assert_int_eq(dt_spool_open(sp, dir, NULL), DT_OK);
    ck_assert_int_eq(dt_spool_write(sp, data, len, NULL), DT_OK);
    ck_assert_int_eq(dt_spool_seal(sp, sha, NULL), DT_OK);
}

/* Places a sealed spool in the filesystem blob store under dir. */
static dt_status place(dt_spool *sp, char sha[65])
{
    dt_blob_store *bs = dt_blob_store_fs(dir);
    ck_assert_ptr_nonnull(bs);
    dt_status st = dt_spool_place(sp, bs, sha, NULL);
    dt_blob_store_free(bs);
    return st;
}

static dt_upload_new upload_of(const char *sha, uint64_t size)
{
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    dt_file_rec *f = &u.files[u.nfiles++];
    strcpy(f->role, "user");
    strcpy(f->sha256, sha);
    f->size = size;
    strcpy(f->kind, "minidump");
    strcpy(f->name, "calc.dmp");
    return u;
}

typedef struct {
    char **orphans;
    size_t norphans;
    size_t removed;
    volatile int finished;
} gc_call;

static void *run_gc(void *arg)
{
    gc_call *c = arg;
    dt_store *s = open_store(); /* one connection per thread, as in the server */
    c->removed = dt_blob_gc(dir, s, c->orphans, c->norphans);
    dt_store_close(s);
    __atomic_store_n(&c->finished, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

START_TEST(shared_blob_survives_concurrent_delete)
{
    fresh();
    size_t len;
    unsigned char *data = dt_test_read_file(dt_test_data("user/rizin__calc.dmp"), &len);
    ck_assert_ptr_nonnull(data);
    dt_store *s = open_store();

    /* Upload 1 stores the content and references it. */
    dt_spool sp;
    char sha[65], sha2[65];
    spool_bytes(&sp, data, len, sha);
    ck_assert_int_eq(place(&sp, sha), DT_OK);
    dt_upload_new u1 = upload_of(sha, len);
    ck_assert_int_eq(dt_store_upload_create(s, &u1, NULL), DT_OK);
    dt_upload_ref ref1;
    ck_assert(dt_store_upload_find(s, u1.id, &ref1));

    /* Staff delete upload 1: its blob is now a removal candidate. */
    gc_call c = { 0 };
    ck_assert_int_eq(dt_store_upload_delete(s, ref1.seq, &c.orphans, &c.norphans, NULL), DT_OK);
    ck_assert_int_eq(c.norphans, 1);

    /* Upload 2 of the same content takes the lock and places its blob: the
     * content is already there, so its own copy is dropped. */
    spool_bytes(&sp, data, len, sha2);
    ck_assert_str_eq(sha, sha2);
    int lock = dt_blob_lock(dir);
    ck_assert_int_ge(lock, 0);
    ck_assert_int_eq(place(&sp, sha2), DT_OK);
    ck_assert(dt_blob_exists(dir, sha, len));

    /* The deleter now removes its orphans; it has to wait for the lock. */
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_gc, &c), 0);
    struct timespec pause = { 0, 300 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    ck_assert_int_eq(__atomic_load_n(&c.finished, __ATOMIC_SEQ_CST), 0);
    ck_assert(dt_blob_exists(dir, sha, len));

    /* Upload 2's row is committed, then the lock released. */
    dt_upload_new u2 = upload_of(sha, len);
    ck_assert_int_eq(dt_store_upload_create(s, &u2, NULL), DT_OK);
    dt_blob_unlock(lock);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(c.removed, 0);
    ck_assert_msg(dt_blob_exists(dir, sha, len), "the new upload's blob was unlinked");
    for (size_t i = 0; i < c.norphans; i++)
        free(c.orphans[i]);
    free(c.orphans);

    /* Once upload 2 is deleted as well, nothing references the blob: gone. */
    dt_upload_ref ref2;
    ck_assert(dt_store_upload_find(s, u2.id, &ref2));
    char **orphans;
    size_t n;
    ck_assert_int_eq(dt_store_upload_delete(s, ref2.seq, &orphans, &n, NULL), DT_OK);
    ck_assert_int_eq(dt_blob_gc(dir, s, orphans, n), 1);
    ck_assert(!dt_blob_exists(dir, sha, len));
    for (size_t i = 0; i < n; i++)
        free(orphans[i]);
    free(orphans);

    dt_store_close(s);
    free(data);
    cleanup();
}
END_TEST

/* A blob a live row names is never unlinked, whoever asks. */
START_TEST(referenced_blob_is_kept)
{
    fresh();
    dt_store *s = open_store();
    static const unsigned char bytes[] = "MDMP not really, but content is content";
    dt_spool sp;
    char sha[65];
    spool_bytes(&sp, bytes, sizeof bytes, sha);
    ck_assert_int_eq(place(&sp, sha), DT_OK);
    dt_upload_new u = upload_of(sha, sizeof bytes);
    ck_assert_int_eq(dt_store_upload_create(s, &u, NULL), DT_OK);
    char *one[] = { sha };
    ck_assert_int_eq(dt_blob_gc(dir, s, one, 1), 0);
    ck_assert(dt_blob_exists(dir, sha, sizeof bytes));
    dt_store_close(s);
    cleanup();
}
END_TEST

static Suite *blob_gc_suite(void)
{
    Suite *s = suite_create("blob_gc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, shared_blob_survives_concurrent_delete);
    tcase_add_test(tc, referenced_blob_is_kept);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(blob_gc_suite)
