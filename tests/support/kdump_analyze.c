/*
 * kdump_analyze.c — see kdump_analyze.h.
 */
#include "kdump_analyze.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analysis/analysis.h"

/* DT_KW_SEED_DIR/name := the dump's bytes. */
static void keep_seed(const char *name, const uint8_t *dump, size_t size)
{
    const char *dir = getenv("DT_KW_SEED_DIR");
    if (!dir || !name)
        return;
    char sp[512];
    snprintf(sp, sizeof sp, "%s/%s", dir, name);
    FILE *f = fopen(sp, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(dump, 1, size, f), size);
    fclose(f);
}

cJSON *dt_kw_analyze(const dt_kw_system *s, bool full, const char *seed_name)
{
    char path[] = "/tmp/dt_kw_analyze_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    if (full) {
        close(fd);
        dt_kw_physical o = { .layout = DT_KW_FULL };
        ck_assert_int_eq(dt_kw_write_physical(s, &o, path), 0);
    } else {
        size_t size = 0;
        uint8_t *dump = dt_kw_build_triage(s, &size);
        ck_assert_ptr_nonnull(dump);
        ck_assert_int_eq(write(fd, dump, size), (ssize_t)size);
        close(fd);
        keep_seed(seed_name, dump, size);
        free(dump);
    }
    dt_analysis_request req = { .kernel_path = path };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    unlink(path);
    return rep;
}
