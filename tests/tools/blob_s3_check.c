/*
 * blob_s3_check.c — drives every dt_blob_ops member of the S3 store
 * (server/blob_s3.c) against a real S3-compatible server named by the
 * environment (S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY,
 * S3_SECRET_KEY, as tests/integration/s3_lib.sh sets them), with WORKDIR
 * for its files and cache.  The bucket must start empty: list must find
 * exactly what was stored.  Leaves the multipart blob, its SHA-256 in
 * WORKDIR/multipart.sha, for the caller to inspect.  Prints one line per step; exits 1 at the first
 * wrong answer.  Used by tests/integration/test_blob_store_s3.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"

#define MiB (1u << 20)

static int fail(const char *what, const dt_error *e)
{
    fprintf(stderr, "FAIL: %s%s%s\n", what, e && e->message[0] ? ": " : "", e ? e->message : "");
    exit(1);
}

static uint8_t *make_bytes(size_t n, uint64_t seed)
{
    uint8_t *b = malloc(n);
    if (!b)
        fail("no memory", NULL);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
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
    EVP_Digest(b, n, d, &dl, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
        fail(path, NULL);
}

static uint8_t *read_fd(int fd, size_t *n)
{
    size_t cap = MiB, len = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (len == cap)
            b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + len, cap - len);
        if (r < 0)
            fail("read", NULL);
        if (r == 0)
            break;
        len += (size_t)r;
    }
    *n = len;
    return b;
}

static void same_bytes(const char *what, int fd, const uint8_t *want, size_t n)
{
    size_t got_n;
    uint8_t *got = read_fd(fd, &got_n);
    close(fd);
    if (got_n != n || memcmp(got, want, n) != 0) {
        fprintf(stderr, "FAIL: %s: %zu bytes read, %zu expected, %s\n", what, got_n, n,
                got_n == n ? "different bytes" : "different size");
        exit(1);
    }
    free(got);
    printf("ok: %s: %zu bytes equal\n", what, n);
}

typedef struct {
    char shas[16][65];
    int n;
} seen;

static int collect(const char *sha, int64_t written, void *arg)
{
    seen *s = arg;
    if (written < 1700000000)
        fail("list: LastModified not read", NULL);
    if (s->n < 16)
        snprintf(s->shas[s->n++], 65, "%s", sha);
    return 0;
}

static int has(const seen *s, const char *sha)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->shas[i], sha) == 0)
            return 1;
    return 0;
}

static void drop_cache(const char *cache, const char *sha)
{
    char p[1400];
    snprintf(p, sizeof p, "%s/%.2s/%s", cache, sha, sha);
    unlink(p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: blob_s3_check WORKDIR (S3_* in the environment)\n");
        return 2;
    }
    const char *work = argv[1];
    char cache[1100];
    snprintf(cache, sizeof cache, "%s/cache", work);
    dt_blob_s3_config cfg = {
        .endpoint = getenv("S3_ENDPOINT"),
        .region = getenv("S3_REGION"),
        .bucket = getenv("S3_BUCKET"),
        .access_key = getenv("S3_ACCESS_KEY"),
        .secret_key = getenv("S3_SECRET_KEY"),
        .cache_dir = cache,
    };
    dt_error e = {0};
    dt_blob_store *bs = dt_blob_store_s3(&cfg, &e);
    if (!bs)
        fail("dt_blob_store_s3", &e);
    const dt_blob_ops *o = bs->ops;
    if (strcmp(o->name, "s3") != 0)
        fail("name is not s3", NULL);
    if (o->check(bs, &e) != DT_OK)
        fail("check", &e);
    printf("ok: check\n");

    /* put_stream: 3 MiB from a pipe-like fd */
    size_t na = 3 * MiB, nb = 2 * MiB + 17, nc = 4 * MiB;
    uint8_t *a = make_bytes(na, 1), *b = make_bytes(nb, 2), *c = make_bytes(nc, 3);
    char sa[65], sb[65], sc[65], p[1400], got[65];
    sha_hex(a, na, sa);
    sha_hex(b, nb, sb);
    sha_hex(c, nc, sc);
    snprintf(p, sizeof p, "%s/a.bin", work);
    write_file(p, a, na);
    int fd = open(p, O_RDONLY);
    uint64_t size = 0;
    if (o->put_stream(bs, fd, got, &size, &e) != DT_OK)
        fail("put_stream", &e);
    close(fd);
    if (strcmp(got, sa) != 0 || size != na)
        fail("put_stream: wrong hash or size", NULL);
    printf("ok: put_stream %zu bytes\n", na);

    /* put_file: consumed; the same content again is stored once */
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/b%d.bin", work, i);
        write_file(p, b, nb);
        if (o->put_file(bs, p, sb, nb, &e) != DT_OK)
            fail("put_file", &e);
        if (access(p, F_OK) == 0)
            fail("put_file left its file in place", NULL);
    }
    printf("ok: put_file twice (file consumed)\n");

    /* put_copy: the file stays */
    snprintf(p, sizeof p, "%s/c.bin", work);
    write_file(p, c, nc);
    if (o->put_copy(bs, p, sc, nc, &e) != DT_OK)
        fail("put_copy", &e);
    if (access(p, F_OK) != 0)
        fail("put_copy removed its file", NULL);
    printf("ok: put_copy (file kept)\n");

    /* A payload that is not the blob named: the server must refuse it. */
    snprintf(p, sizeof p, "%s/liar.bin", work);
    write_file(p, c, nc);
    char wrong[65];
    snprintf(wrong, sizeof wrong, "%s", sc);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    dt_error we = {0};
    if (o->put_copy(bs, p, wrong, nc, &we) == DT_OK)
        fail("put_copy of bytes under another hash was accepted", NULL);
    if (!strstr(we.message, "400") || !strstr(we.message, "XAmzContentSHA256Mismatch"))
        fail("wrong payload hash: the error lacks HTTP 400 XAmzContentSHA256Mismatch", &we);
    if (o->exists(bs, wrong, nc))
        fail("the refused object exists", NULL);
    printf("ok: wrong payload hash refused (%s)\n", we.message);

    if (!o->exists(bs, sa, na) || !o->exists(bs, sb, nb) || !o->exists(bs, sc, nc))
        fail("exists with the right size", NULL);
    if (o->exists(bs, sa, na + 1) || o->exists(bs, sb, nb - 1))
        fail("exists with a wrong size said yes", NULL);
    printf("ok: exists (right size yes, wrong size no)\n");

    /* open_read from the cache put_file left, then after dropping it
     * (a download), and local_path likewise. */
    fd = o->open_read(bs, sb, &e);
    if (fd < 0)
        fail("open_read b", &e);
    same_bytes("open_read b (cached by put_file)", fd, b, nb);
    drop_cache(cache, sb);
    fd = o->open_read(bs, sb, &e);
    if (fd < 0)
        fail("open_read b after cache drop", &e);
    same_bytes("open_read b (downloaded)", fd, b, nb);
    drop_cache(cache, sc);
    if (o->local_path(bs, sc, p, sizeof p, &e) != 0)
        fail("local_path c", &e);
    if (strncmp(p, cache, strlen(cache)) != 0)
        fail("local_path is not in the cache directory", NULL);
    fd = open(p, O_RDONLY);
    same_bytes("local_path c (downloaded)", fd, c, nc);
    if (o->local_path(bs, wrong, p, sizeof p, &e) == 0)
        fail("local_path of an absent blob succeeded", NULL);
    printf("ok: local_path of an absent blob: %s\n", e.message);

    seen s = {0};
    if (o->list(bs, collect, &s, &e) != DT_OK)
        fail("list", &e);
    if (s.n != 3 || !has(&s, sa) || !has(&s, sb) || !has(&s, sc)) {
        fprintf(stderr, "FAIL: list found %d blobs, expected exactly a, b, c\n", s.n);
        return 1;
    }
    printf("ok: list finds exactly the 3 stored blobs\n");
    /* Two keys per answer: the third comes by a continuation token. */
    cfg.list_page = 2;
    dt_blob_store *paged = dt_blob_store_s3(&cfg, &e);
    memset(&s, 0, sizeof s);
    if (!paged || paged->ops->list(paged, collect, &s, &e) != DT_OK)
        fail("list 2 per page", &e);
    if (s.n != 3 || !has(&s, sa) || !has(&s, sb) || !has(&s, sc))
        fail("list 2 per page did not find exactly a, b, c", NULL);
    dt_blob_store_free(paged);
    cfg.list_page = 0;
    printf("ok: list 2 keys per page (continuation token) finds the same 3\n");

    if (o->remove(bs, sa, &e) != DT_OK || o->remove(bs, sa, &e) != DT_OK)
        fail("remove twice", &e);
    if (o->exists(bs, sa, na))
        fail("exists after remove", NULL);
    memset(&s, 0, sizeof s);
    if (o->list(bs, collect, &s, &e) != DT_OK || s.n != 2 || has(&s, sa))
        fail("list after remove", &e);
    printf("ok: remove (idempotent), list after it\n");
    dt_blob_store_free(bs);

    /* Multipart: 12 MiB in 5 MiB parts (5+5+2). */
    cfg.part_size = 5 * MiB;
    bs = dt_blob_store_s3(&cfg, &e);
    if (!bs)
        fail("dt_blob_store_s3 (5 MiB parts)", &e);
    size_t nm = 12 * MiB;
    uint8_t *m = make_bytes(nm, 4);
    char sm[65];
    sha_hex(m, nm, sm);
    snprintf(p, sizeof p, "%s/m.bin", work);
    write_file(p, m, nm);
    if (bs->ops->put_file(bs, p, sm, nm, &e) != DT_OK)
        fail("multipart put_file", &e);
    if (!bs->ops->exists(bs, sm, nm))
        fail("multipart object missing or wrong size", NULL);
    drop_cache(cache, sm);
    fd = bs->ops->open_read(bs, sm, &e);
    if (fd < 0)
        fail("open_read multipart", &e);
    same_bytes("multipart 12 MiB in 5 MiB parts, downloaded", fd, m, nm);
    /* The multipart object stays for the script, which checks its ETag
     * ("…-3": three parts) and deletes it. */
    snprintf(p, sizeof p, "%s/multipart.sha", work);
    write_file(p, (const uint8_t *)sm, 64);
    if (bs->ops->remove(bs, sb, &e) != DT_OK || bs->ops->remove(bs, sc, &e) != DT_OK)
        fail("remove all", &e);
    memset(&s, 0, sizeof s);
    if (bs->ops->list(bs, collect, &s, &e) != DT_OK || s.n != 1 || !has(&s, sm))
        fail("list after removing all but the multipart blob", &e);
    dt_blob_store_free(bs);

    /* A wrong secret: check fails with the server's 403. */
    cfg.secret_key = "wrong-secret-wrong-secret";
    bs = dt_blob_store_s3(&cfg, &e);
    if (!bs)
        fail("dt_blob_store_s3 (wrong secret)", &e);
    if (bs->ops->check(bs, &e) == DT_OK || !strstr(e.message, "403"))
        fail("check with a wrong secret did not fail with 403", &e);
    printf("ok: check with a wrong secret: %s\n", e.message);
    dt_blob_store_free(bs);
    free(a);
    free(b);
    free(c);
    free(m);
    printf("blob_s3_check: all ops passed\n");
    return 0;
}
