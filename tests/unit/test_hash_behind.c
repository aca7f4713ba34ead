/*
 * test_hash_behind.c — the SHA-256 computed behind the writer
 * (hash_behind.h), on real files: a spool fed in uneven pieces past the
 * inline limit seals to the digest of the bytes (OpenSSL's one-shot
 * SHA-256 of the same buffer), as does one that stays inline; the hasher
 * continues a hash state it was handed; a file cut shorter than reported
 * is an error, not a digest of fewer bytes; and cancelling a running
 * hasher (an aborted upload) stops it cleanly.
 */
#include <check.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "hash_behind.h"

static char dir[256];

static void fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/dt-test-hashbehind.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(dt_blob_prepare_dirs(dir, NULL), DT_OK);
}

static void cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Deterministic bytes that are not all alike (xorshift). */
static uint8_t *bytes(size_t n)
{
    uint8_t *b = malloc(n);
    ck_assert_ptr_nonnull(b);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)x;
    }
    return b;
}

static void sha_hex(const uint8_t *b, size_t n, char out[65])
{
    unsigned char d[32];
    unsigned int dl = 0;
    ck_assert_int_eq(EVP_Digest(b, n, d, &dl, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void md_hex(EVP_MD_CTX *md, char out[65])
{
    unsigned char d[32];
    unsigned int dl = 0;
    ck_assert_int_eq(EVP_DigestFinal_ex(md, d, &dl), 1);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Writes b through a spool in pieces of 1 byte to ~1 MiB and seals it. */
static void spool_in_pieces(const uint8_t *b, size_t n, char sha[65], int *went_behind)
{
    dt_spool sp;
    ck_assert_int_eq(dt_spool_open(&sp, dir, NULL), DT_OK);
    size_t at = 0, step = 1;
    *went_behind = 0;
    while (at < n) {
        size_t k = step < n - at ? step : n - at;
        ck_assert_int_eq(dt_spool_write(&sp, b + at, k, NULL), DT_OK);
        at += k;
        *went_behind |= sp.hb != NULL;
        step = step * 7 % 1048573 + 1;
    }
    ck_assert_int_eq(dt_spool_seal(&sp, sha, NULL), DT_OK);
    ck_assert_uint_eq(sp.size, n);
    dt_spool_abort(&sp);
}

START_TEST(spool_behind_the_writer)
{
    fresh();
    size_t n = 3 * DT_HASH_BEHIND_MAX_LAG / 2 + 12345; /* past the lag bound, not chunk-aligned */
    uint8_t *b = bytes(n);
    char want[65], got[65];
    sha_hex(b, n, want);
    int behind = 0;
    spool_in_pieces(b, n, got, &behind);
    ck_assert_msg(behind, "a %zu-byte spool never hashed behind the writer", n);
    ck_assert_str_eq(got, want);
    free(b);
    cleanup();
}
END_TEST

START_TEST(spool_inline_below_the_limit)
{
    fresh();
    size_t n = DT_SPOOL_HASH_INLINE - 1;
    uint8_t *b = bytes(n);
    char want[65], got[65];
    sha_hex(b, n, want);
    int behind = 1;
    spool_in_pieces(b, n, got, &behind);
    ck_assert(!behind);
    ck_assert_str_eq(got, want);
    free(b);
    cleanup();
}
END_TEST

static int temp_file(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/tmp/f-XXXXXX", dir);
    int fd = mkstemp(p);
    ck_assert_int_ge(fd, 0);
    unlink(p);
    return fd;
}

START_TEST(continues_a_hash_state)
{
    /* A resumed upload: the first bytes were hashed before (another PATCH),
     * the hasher continues from there. */
    fresh();
    size_t n = 5u << 20, first = 1000003;
    uint8_t *b = bytes(n);
    int fd = temp_file();
    ck_assert_int_eq(write(fd, b, first), (ssize_t)first);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    EVP_DigestUpdate(md, b, first);
    dt_hash_behind *h = dt_hash_behind_start(fd, md, first, NULL);
    ck_assert_ptr_nonnull(h);
    for (size_t at = first; at < n; at += 65536) {
        size_t k = n - at < 65536 ? n - at : 65536;
        ck_assert_int_eq(write(fd, b + at, k), (ssize_t)k);
        dt_hash_behind_written(h, at + k);
    }
    dt_error err = { 0 };
    EVP_MD_CTX *out = dt_hash_behind_finish(h, &err);
    ck_assert_ptr_nonnull(out);
    char want[65], got[65];
    sha_hex(b, n, want);
    md_hex(out, got);
    EVP_MD_CTX_free(out);
    ck_assert_str_eq(got, want);
    close(fd);
    free(b);
    cleanup();
}
END_TEST

START_TEST(a_short_file_is_an_error)
{
    fresh();
    size_t n = 2u << 20;
    uint8_t *b = bytes(n);
    int fd = temp_file();
    ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
    ck_assert_int_eq(ftruncate(fd, (off_t)(n / 2)), 0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    dt_hash_behind *h = dt_hash_behind_start(fd, md, 0, NULL);
    ck_assert_ptr_nonnull(h);
    dt_hash_behind_written(h, n); /* more than the file holds now */
    dt_error err = { 0 };
    ck_assert_ptr_null(dt_hash_behind_finish(h, &err));
    ck_assert_int_eq(err.code, DT_ERR_IO);
    ck_assert_msg(strstr(err.message, "read back"), "%s", err.message);
    close(fd);
    free(b);
    cleanup();
}
END_TEST

START_TEST(cancel_stops_a_running_hasher)
{
    fresh();
    size_t n = 32u << 20;
    uint8_t *b = bytes(n);
    for (int round = 0; round < 20; round++) {
        int fd = temp_file();
        ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
        dt_hash_behind *h = dt_hash_behind_start(fd, md, 0, NULL);
        ck_assert_ptr_nonnull(h);
        dt_hash_behind_written(h, (uint64_t)(n >> (round % 4)));
        dt_hash_behind_cancel(h); /* mid-hash or idle; frees md (ASan checks) */
        close(fd);
    }
    dt_hash_behind_cancel(NULL);
    free(b);
    cleanup();
}
END_TEST

static Suite *hash_behind_suite(void)
{
    Suite *s = suite_create("hash_behind");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, spool_behind_the_writer);
    tcase_add_test(tc, spool_inline_below_the_limit);
    tcase_add_test(tc, continues_a_hash_state);
    tcase_add_test(tc, a_short_file_is_an_error);
    tcase_add_test(tc, cancel_stops_a_running_hasher);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hash_behind_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
