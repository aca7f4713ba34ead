/*
 * test_upload.c — streaming an upload body to a blob: raw and gzip-encoded
 * bodies fed in small chunks give the file's exact SHA-256 and a blob at its
 * content address; limits and unknown content refuse with 413/415 and leave
 * no temp file; archives are unpacked with their limits.
 */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "archive_unpack.h"
#include "blob.h"
#include "dt_test.h"
#include "secrets.h"
#include "upload.h"

static char dir[256];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/dt-test-upload.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(dt_blob_prepare_dirs(dir, NULL), DT_OK);
}

static void remove_dir(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int tmp_files(void)
{
    char p[300];
    snprintf(p, sizeof p, "%s/tmp", dir);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static dt_upload *begin(const char *encoding, uint64_t part_limit)
{
    dt_upload_limits lim = { .data_dir = dir, .max_part_size = part_limit, .max_request_size = 1ull << 30 };
    dt_refusal why = { 0 };
    dt_upload *u = dt_upload_begin(NULL, &lim, "application/octet-stream", encoding, NULL, &why);
    ck_assert_msg(u != NULL, "begin: %s", why.err.message);
    return u;
}

/* The refusal as status, code and message (upload.h: dt_upload_refusal). */
static void upload_error(const dt_upload *u, int *status, const char **code, const char **msg)
{
    const dt_refusal *r = dt_upload_refusal(u);
    *status = (int)r->http;
    *code = r->code;
    *msg = r->err.message;
}

/* 0 ok, -1 refused (the dt_status API seen as the assertions below read it). */
static int finish(dt_upload *u, dt_upload_new *out, int *lock)
{
    return dt_upload_finish(u, out, lock) == DT_OK ? 0 : -1;
}

static int feed(dt_upload *u, const char *data, size_t len)
{
    return dt_upload_feed(u, data, len) == DT_OK ? 0 : -1;
}

static void feed_chunks(dt_upload *u, const unsigned char *data, size_t len, size_t chunk)
{
    for (size_t off = 0; off < len; off += chunk)
        if (feed(u, (const char *)data + off, len - off < chunk ? len - off : chunk) != 0)
            return;
}

START_TEST(raw_body_is_hashed_and_stored)
{
    fresh_dir();
    size_t len;
    unsigned char *data = dt_test_read_file(dt_test_data("user/rizin__calc.dmp"), &len);
    ck_assert_ptr_nonnull(data);
    dt_upload *u = begin(NULL, 1 << 20);
    feed_chunks(u, data, len, 1000);
    dt_upload_new out;
    int lock = -1;
    ck_assert_int_eq(finish(u, &out, &lock), 0);
    ck_assert_int_ge(lock, 0);
    dt_blob_unlock(lock);
    ck_assert_int_eq(out.nfiles, 1);
    ck_assert_str_eq(out.files[0].role, "user");
    ck_assert_str_eq(out.files[0].kind, "minidump");
    ck_assert_int_eq(out.files[0].size, 36724);
    ck_assert_str_eq(out.files[0].sha256, "a8efc968340ae2055b9aecca2fd624b3065e95b8545b0d5098999aba85f4904a");
    char path[400];
    ck_assert_int_eq(dt_blob_path(dir, out.files[0].sha256, path, sizeof path), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 36724);
    dt_upload_free(u);
    ck_assert_int_eq(tmp_files(), 0);
    free(data);
    remove_dir();
}
END_TEST

START_TEST(gzip_body_is_decoded)
{
    fresh_dir();
    size_t len;
    unsigned char *data = dt_test_read_file(dt_test_data("kernel/rizin__triage_x64.dmp"), &len);
    ck_assert_ptr_nonnull(data);
    z_stream z = { 0 };
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len);
    unsigned char *gz = malloc(cap);
    z.next_in = data;
    z.avail_in = (uInt)len;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t gzlen = z.total_out;
    deflateEnd(&z);
    dt_upload *u = begin("gzip", 1 << 22);
    feed_chunks(u, gz, gzlen, 777);
    dt_upload_new out;
    int lock = -1;
    ck_assert_int_eq(finish(u, &out, &lock), 0);
    ck_assert_int_ge(lock, 0);
    dt_blob_unlock(lock);
    ck_assert_str_eq(out.files[0].role, "kernel");
    ck_assert_str_eq(out.files[0].kind, "kernel64");
    ck_assert_int_eq(out.files[0].size, 1444532);
    ck_assert_str_eq(out.files[0].sha256, "6875e8ff013eddb9d562165067be24e2a231a8851690bb101f6597ca9534cd28");
    ck_assert_int_eq(dt_upload_bytes(u), 1444532);
    dt_upload_free(u);
    free(gz);
    free(data);
    remove_dir();
}
END_TEST

START_TEST(limits_and_unknown_content_leave_nothing)
{
    fresh_dir();
    size_t len;
    unsigned char *data = dt_test_read_file(dt_test_data("user/rizin__calc.dmp"), &len);
    dt_upload *u = begin(NULL, 10000);
    feed_chunks(u, data, len, 4096);
    int status;
    const char *code, *msg;
    dt_upload_new out;
    int lock = -1;
    ck_assert_int_eq(finish(u, &out, &lock), -1);
    upload_error(u, &status, &code, &msg);
    ck_assert_int_eq(status, 413);
    ck_assert_str_eq(code, "too_large");
    ck_assert_int_eq(tmp_files(), 0); /* removed at once, before the body ends */
    dt_upload_free(u);

    u = begin(NULL, 1 << 20);
    static const char text[] = "this is not a dump, and it is long enough to be sniffed properly..........";
    ck_assert_int_eq(feed(u, text, sizeof text - 1), 0);
    ck_assert_int_eq(finish(u, &out, &lock), -1);
    upload_error(u, &status, &code, &msg);
    ck_assert_int_eq(status, 415);
    ck_assert_str_eq(code, "unsupported_media_type");
    ck_assert_int_eq(tmp_files(), 0);
    dt_upload_free(u);

    u = begin(NULL, 1 << 20);
    ck_assert_int_eq(finish(u, &out, &lock), -1);
    upload_error(u, &status, &code, &msg);
    ck_assert_int_eq(status, 400);
    dt_upload_free(u);

    u = begin("gzip", 1 << 20);
    ck_assert_int_eq(feed(u, "\x1f\x8b\x08\x00garbage-garbage", 19), -1);
    upload_error(u, &status, &code, &msg);
    ck_assert_int_eq(status, 400);
    dt_upload_free(u);
    ck_assert_int_eq(tmp_files(), 0);

    dt_refusal why = { 0 };
    dt_upload_limits lim = { .data_dir = dir, .max_part_size = 1, .max_request_size = 1 };
    ck_assert_ptr_null(dt_upload_begin(NULL, &lim, NULL, "br", NULL, &why));
    int st2 = (int)why.http;
    ck_assert_int_eq(st2, 415);
    free(data);
    remove_dir();
}
END_TEST

/* A tar.gz in a file: the given entries. */
static void write_tar_gz(const char *path, const char **names, const char **files, int n, size_t pad_zeros)
{
    struct archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        unsigned char *data = files[i] ? dt_test_read_file(files[i], &len) : calloc(1, pad_zeros);
        if (!files[i]) {
            len = pad_zeros;
            memcpy(data, "MDMP", 4); /* looks like a dump, so it is unpacked */
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        archive_write_data(a, data, len);
        archive_entry_free(e);
        free(data);
    }
    archive_write_close(a);
    archive_write_free(a);
}

START_TEST(archive_unpack_finds_the_pair)
{
    fresh_dir();
    char path[400];
    snprintf(path, sizeof path, "%s/pair.tar.gz", dir);
    const char *names[] = { "notes/readme.txt", "case/x.Kernel.dmp", "case/x.dmp" };
    const char *files[] = { dt_test_data("expected/rizin__triage_x64.dbt.txt"),
                            dt_test_data("kernel/rizin__triage_x64.dmp"), dt_test_data("user/rizin__calc.dmp") };
    write_tar_gz(path, names, files, 3, 0);
    dt_unpack_limits lim = { .max_total = 1ull << 30, .max_entries = 64, .max_ratio = 200 };
    dt_file_rec out[DT_UNPACK_MAX_DUMPS];
    int n = 0;
    dt_error err = { 0 };
    ck_assert_msg(dt_archive_unpack(dir, path, &lim, out, &n, &err) == DT_OK, "%s", err.message);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(out[0].role, "kernel");
    ck_assert_str_eq(out[0].name, "x.Kernel.dmp");
    ck_assert_str_eq(out[0].sha256, "6875e8ff013eddb9d562165067be24e2a231a8851690bb101f6597ca9534cd28");
    ck_assert_str_eq(out[1].role, "user");
    ck_assert_str_eq(out[1].sha256, "a8efc968340ae2055b9aecca2fd624b3065e95b8545b0d5098999aba85f4904a");
    ck_assert_int_eq(tmp_files(), 0);

    /* Too many entries. */
    lim.max_entries = 1;
    ck_assert_int_eq(dt_archive_unpack(dir, path, &lim, out, &n, &err), DT_ERR_CORRUPT);
    /* A bomb: "MDMP" and 64 MiB of zeros compress to ~64 KiB, over a 200:1 ratio. */
    snprintf(path, sizeof path, "%s/bomb.tar.gz", dir);
    const char *bnames[] = { "zeros.dmp" };
    const char *bfiles[] = { NULL };
    write_tar_gz(path, bnames, bfiles, 1, 64u << 20);
    lim.max_entries = 64;
    ck_assert_int_eq(dt_archive_unpack(dir, path, &lim, out, &n, &err), DT_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err.message, "ratio"));
    ck_assert_int_eq(tmp_files(), 0);
    /* No dump inside. */
    snprintf(path, sizeof path, "%s/none.tar.gz", dir);
    const char *nnames[] = { "readme.txt" };
    const char *nfiles[] = { dt_test_data("expected/rizin__triage_x64.dbt.txt") };
    write_tar_gz(path, nnames, nfiles, 1, 0);
    ck_assert_int_eq(dt_archive_unpack(dir, path, &lim, out, &n, &err), DT_ERR_FORMAT);
    remove_dir();
}
END_TEST

START_TEST(secrets_are_random_hex)
{
    char a[65], b[65];
    ck_assert_int_eq(dt_random_hex(a, sizeof a, 32), 0);
    ck_assert_int_eq(dt_random_hex(b, sizeof b, 32), 0);
    ck_assert_int_eq(strlen(a), 64);
    ck_assert_int_eq(strspn(a, "0123456789abcdef"), 64);
    ck_assert_int_eq(dt_secret_equal(a, b), 0);
    ck_assert_int_eq(dt_secret_equal(a, a), 1);
    char h[65];
    dt_sha256_hex("abc", 3, h);
    ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

static Suite *upload_suite(void)
{
    Suite *s = suite_create("upload");
    TCase *tc = tcase_create("upload");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, raw_body_is_hashed_and_stored);
    tcase_add_test(tc, gzip_body_is_decoded);
    tcase_add_test(tc, limits_and_unknown_content_leave_nothing);
    tcase_add_test(tc, archive_unpack_finds_the_pair);
    tcase_add_test(tc, secrets_are_random_hex);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(upload_suite)
