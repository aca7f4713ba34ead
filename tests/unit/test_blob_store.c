/*
 * test_blob_store.c — the blob store interface (blob.h's dt_blob_ops) over
 * the filesystem, on a real directory: a stream is stored under its SHA-256
 * (the known digest of the bytes), identical content is stored once, a
 * placed file is consumed, a copied one (put_copy, tus completion) stays
 * and the blob survives its removal, open/local path read the bytes back,
 * list finds exactly the stored blobs with the time their bytes were
 * written, remove is idempotent, and the readiness probe
 * passes on a working directory and fails when blobs/ is gone or tmp/ is
 * not writable — leaving no probe file behind either way.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "dt_test.h"


static char dir[256];

static void fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/dt-test-blobstore.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(dt_blob_prepare_dirs(dir, NULL), DT_OK);
}

static void cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int count_tmp(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/tmp", dir);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Stores bytes through put_stream (via a pipe-free temp file). */
static void put_bytes(dt_blob_store *bs, const char *bytes, char sha[65], uint64_t *size)
{
    char src[400];
    snprintf(src, sizeof src, "%s/src.bin", dir);
    FILE *f = fopen(src, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(bytes, f);
    fclose(f);
    int fd = open(src, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    dt_error err = { 0 };
    ck_assert_msg(bs->ops->put_stream(bs, fd, sha, size, &err) == DT_OK, "put_stream: %s", err.message);
    close(fd);
    unlink(src);
}

static int visit_count(const char *sha, int64_t written, void *arg)
{
    (void)sha;
    /* Just written: within a minute of now. */
    ck_assert_int_le(llabs((long long)(written - (int64_t)time(NULL))), 60);
    (*(int *)arg)++;
    return 0;
}

static int visit_stop(const char *sha, int64_t written, void *arg)
{
    (void)written;
    snprintf(arg, 65, "%s", sha);
    return 1;
}

/* Records the written time of the one blob named in w->sha. */
typedef struct {
    const char *sha;
    int64_t written;
} when_ctx;

static int visit_when(const char *sha, int64_t written, void *arg)
{
    when_ctx *w = arg;
    if (strcmp(sha, w->sha) == 0)
        w->written = written;
    return 0;
}

START_TEST(stream_read_list_remove)
{
    fresh();
    dt_blob_store *bs = dt_blob_store_fs(dir);
    ck_assert_ptr_nonnull(bs);
    ck_assert_str_eq(bs->ops->name, "fs");
    char sha[65];
    uint64_t size = 0;
    put_bytes(bs, "hello blob store\n", sha, &size);
    ck_assert_uint_eq(size, 17);
    /* The digest is the content's, as sha256sum computes it. */
    char cmd[600], out[100] = "";
    snprintf(cmd, sizeof cmd, "printf 'hello blob store\\n' | sha256sum | cut -c1-64");
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
    pclose(p);
    out[strcspn(out, "\n")] = 0;
    ck_assert_str_eq(sha, out);
    ck_assert_int_eq(bs->ops->exists(bs, sha, 17), 1);
    ck_assert_int_eq(bs->ops->exists(bs, sha, 16), 0);

    /* Identical content again: one blob, no temp file left. */
    char sha2[65];
    put_bytes(bs, "hello blob store\n", sha2, NULL);
    ck_assert_str_eq(sha, sha2);
    ck_assert_int_eq(count_tmp(), 0);

    dt_error err = { 0 };
    int fd = bs->ops->open_read(bs, sha, &err);
    ck_assert_int_ge(fd, 0);
    char buf[64] = { 0 };
    ck_assert_int_eq(read(fd, buf, sizeof buf - 1), 17);
    close(fd);
    ck_assert_str_eq(buf, "hello blob store\n");
    char path[1200];
    ck_assert_int_eq(bs->ops->local_path(bs, sha, path, sizeof path, &err), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int)st.st_size, 17);
    ck_assert_int_eq(bs->ops->local_path(bs, "not-a-hash", path, sizeof path, &err), -1);

    char other[65];
    put_bytes(bs, "another blob\n", other, NULL);
    int n = 0;
    ck_assert_int_eq(bs->ops->list(bs, visit_count, &n, &err), DT_OK);
    ck_assert_int_eq(n, 2);
    char first[65] = "";
    ck_assert_int_eq(bs->ops->list(bs, visit_stop, first, &err), DT_OK);
    ck_assert(strcmp(first, sha) == 0 || strcmp(first, other) == 0);

    ck_assert_int_eq(bs->ops->remove(bs, sha, &err), DT_OK);
    ck_assert_int_eq(bs->ops->remove(bs, sha, &err), DT_OK); /* already gone: fine */
    ck_assert_int_eq(bs->ops->exists(bs, sha, 17), 0);
    ck_assert_int_eq(bs->ops->open_read(bs, sha, &err), -1);
    ck_assert_int_eq(err.code, DT_ERR_NOT_FOUND);
    n = 0;
    bs->ops->list(bs, visit_count, &n, &err);
    ck_assert_int_eq(n, 1);
    dt_blob_store_free(bs);
    cleanup();
}
END_TEST

START_TEST(put_file_consumes_and_dedups)
{
    fresh();
    dt_blob_store *bs = dt_blob_store_fs(dir);
    char sha[65];
    put_bytes(bs, "hello blob store\n", sha, NULL);
    /* A sealed local file with the same content: consumed, blob unchanged. */
    char src[400];
    snprintf(src, sizeof src, "%s/tmp/again", dir);
    FILE *f = fopen(src, "wb");
    fputs("hello blob store\n", f);
    fclose(f);
    dt_error err = { 0 };
    ck_assert_int_eq(bs->ops->put_file(bs, src, sha, 17, &err), DT_OK);
    ck_assert_int_eq(access(src, F_OK), -1);
    ck_assert_int_eq(bs->ops->exists(bs, sha, 17), 1);
    /* A new file under a given name is moved into place. */
    f = fopen(src, "wb");
    fputs("x", f);
    fclose(f);
    const char *name = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"; /* sha256("x") */
    ck_assert_int_eq(bs->ops->put_file(bs, src, name, 1, &err), DT_OK);
    ck_assert_int_eq(bs->ops->exists(bs, name, 1), 1);
    ck_assert_int_eq(access(src, F_OK), -1);
    ck_assert_int_eq(bs->ops->put_file(bs, src, "zz", 1, &err), DT_ERR_ARG);
    dt_blob_store_free(bs);
    cleanup();
}
END_TEST

START_TEST(put_copy_keeps_the_file)
{
    fresh();
    dt_blob_store *bs = dt_blob_store_fs(dir);
    char src[400];
    snprintf(src, sizeof src, "%s/tus-file", dir);
    FILE *f = fopen(src, "wb");
    fputs("x", f);
    fclose(f);
    /* Written three days ago: list reports that time, not the copy's. */
    struct timeval old[2] = { { time(NULL) - 3 * 86400, 0 }, { time(NULL) - 3 * 86400, 0 } };
    ck_assert_int_eq(utimes(src, old), 0);
    const char *name = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"; /* sha256("x") */
    dt_error err = { 0 };
    ck_assert_msg(bs->ops->put_copy(bs, src, name, 1, &err) == DT_OK, "put_copy: %s", err.message);
    ck_assert_int_eq(access(src, F_OK), 0);
    ck_assert_int_eq(bs->ops->exists(bs, name, 1), 1);
    when_ctx w = { name, 0 };
    ck_assert_int_eq(bs->ops->list(bs, visit_when, &w, &err), DT_OK);
    ck_assert_int_eq(w.written, (int64_t)old[1].tv_sec);
    /* Again (a completion that runs twice): fine, still one blob. */
    ck_assert_int_eq(bs->ops->put_copy(bs, src, name, 1, &err), DT_OK);
    /* The source goes (the upload row committed): the blob stays. */
    ck_assert_int_eq(unlink(src), 0);
    ck_assert_int_eq(bs->ops->exists(bs, name, 1), 1);
    int fd = bs->ops->open_read(bs, name, &err);
    char c = 0;
    ck_assert_int_eq(read(fd, &c, 1), 1);
    close(fd);
    ck_assert_int_eq(c, 'x');
    ck_assert_int_eq(bs->ops->put_copy(bs, src, "zz", 1, &err), DT_ERR_ARG);
    dt_blob_store_free(bs);
    cleanup();
}
END_TEST

START_TEST(readiness_probe)
{
    fresh();
    dt_blob_store *bs = dt_blob_store_fs(dir);
    dt_error err = { 0 };
    ck_assert_msg(bs->ops->check(bs, &err) == DT_OK, "check: %s", err.message);
    ck_assert_int_eq(count_tmp(), 0);

    /* blobs/ gone (an unmounted share shows an empty mount point). */
    char blobs[400], away[400];
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    snprintf(away, sizeof away, "%s/blobs.away", dir);
    ck_assert_int_eq(rename(blobs, away), 0);
    ck_assert_int_ne(bs->ops->check(bs, &err), DT_OK);
    ck_assert(strstr(err.message, "blobs") != NULL);
    ck_assert_int_eq(rename(away, blobs), 0);
    ck_assert_int_eq(bs->ops->check(bs, &err), DT_OK);

    /* tmp/ not writable (only meaningful when not root). */
    if (geteuid() != 0) {
        char tmp[400];
        snprintf(tmp, sizeof tmp, "%s/tmp", dir);
        ck_assert_int_eq(chmod(tmp, 0500), 0);
        ck_assert_int_ne(bs->ops->check(bs, &err), DT_OK);
        chmod(tmp, 0700);
    }
    ck_assert_int_eq(count_tmp(), 0);
    dt_blob_store_free(bs);
    dt_blob_store_free(NULL);
    cleanup();
}
END_TEST

static Suite *blob_store_suite(void)
{
    Suite *s = suite_create("blob_store");
    TCase *tc = tcase_create("fs");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, stream_read_list_remove);
    tcase_add_test(tc, put_file_consumes_and_dedups);
    tcase_add_test(tc, put_copy_keeps_the_file);
    tcase_add_test(tc, readiness_probe);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(blob_store_suite)
