/*
 * dt_test.c — see dt_test.h.
 */
#include "dt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

const char *dt_test_data(const char *relative)
{
    static char buf[8][4096];
    static int next;
    const char *root = getenv("DT_TEST_DATA");
    char *out = buf[next++ % 8];
    snprintf(out, sizeof buf[0], "%s/%s", root ? root : "tests/data", relative);
    return out;
}

const char *dt_test_bin(void)
{
    const char *b = getenv("DT_BIN");
    return b ? b : "dumptriage";
}

unsigned char *dt_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && size)
        *size = (size_t)n;
    return buf;
}

/* Skips counted in memory shared with Check's forked test children (mapped
 * before they fork); a plain counter when the map failed or without fork. */
static int skips_local;
static volatile int *skips = &skips_local;

void dt_test_skip(const char *why)
{
    fprintf(stderr, "SKIP: %s\n", why);
    __atomic_add_fetch(skips, 1, __ATOMIC_SEQ_CST);
}

int dt_test_run(Suite *s)
{
    void *shared = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared != MAP_FAILED) {
        skips = shared;
        *skips = 0;
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    int skipped = __atomic_load_n(skips, __ATOMIC_SEQ_CST);
    if (skipped)
        fprintf(stderr, "%d test(s) skipped\n", skipped);
    return failed ? 1 : skipped ? 77 : 0;
}
