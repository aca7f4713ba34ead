/*
 * unpack_main.c — main() of dumptriage-unpack, the helper program the server
 * runs (limited_child.h) for the work it does itself on hostile input:
 *
 *   dumptriage-unpack archive DATA_DIR WORK_DIR ARCHIVE LIMITS
 *       find the user and kernel dump in an archive (archive_unpack.h)
 *   dumptriage-unpack inflate GZ TARGET LIMITS
 *       inflate a .dmp.gz into TARGET (archive_unpack.h)
 *   dumptriage-unpack symbols DATA_DIR WORK_DIR LIMITS [NAME PATH SHA256|-]…
 *       identify and file received symbol files (symbol_ingest.h)
 *
 * LIMITS is dt_unpack_limits_encode's word.  The result goes back through
 * the block the server passes as fd 3, never to stdout; run by hand, the
 * program says so and exits 2.  It is a program of its own, not a fork of
 * the server, so libarchive and zlib run in a single-threaded process that
 * was exec'd clean (limited_child.h says why).
 */
#include <stdio.h>
#include <string.h>

#include "archive_unpack.h"
#include "limited_child.h"
#include "symbol_ingest.h"

/* A decoder's failed allocation under RLIMIT_AS must be seen as NULL (and
 * reported as the memory limit) in a sanitizer build too. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static int usage(void)
{
    fprintf(stderr, "usage: dumptriage-unpack archive|inflate|symbols ARGS… (run by dumptriage-server only)\n");
    return 2;
}

static int run_archive(int argc, char **argv)
{
    if (argc != 6)
        return usage();
    dt_unpack_found *res = dt_limited_child_begin(sizeof *res);
    if (!res)
        return usage();
    dt_error err = { 0 };
    dt_unpack_limits lim;
    dt_status rc = dt_unpack_limits_decode(argv[5], &lim, &err);
    if (rc == DT_OK)
        rc = dt_unpack_job_archive(argv[2], argv[3], argv[4], &lim, res, &err);
    dt_limited_child_end(res, rc, &err);
    return 0;
}

static int run_inflate(int argc, char **argv)
{
    if (argc != 5)
        return usage();
    uint64_t *size = dt_limited_child_begin(sizeof *size);
    if (!size)
        return usage();
    dt_error err = { 0 };
    dt_unpack_limits lim;
    dt_status rc = dt_unpack_limits_decode(argv[4], &lim, &err);
    if (rc == DT_OK)
        rc = dt_unpack_job_inflate(argv[2], argv[3], &lim, size, &err);
    dt_limited_child_end(size, rc, &err);
    return 0;
}

static int run_symbols(int argc, char **argv)
{
    if (argc < 5 || (argc - 5) % 3 != 0 || (argc - 5) / 3 > DT_SYMBOL_MAX_PARTS)
        return usage();
    dt_symbol_ingest *in = dt_limited_child_begin(sizeof *in);
    if (!in)
        return usage();
    dt_error err = { 0 };
    dt_unpack_limits lim;
    dt_status rc = dt_unpack_limits_decode(argv[4], &lim, &err);
    if (rc == DT_OK) {
        dt_symbol_part parts[DT_SYMBOL_MAX_PARTS];
        int n = 0;
        for (int i = 5; i + 2 < argc; i += 3, n++) {
            parts[n].name = argv[i];
            parts[n].path = argv[i + 1];
            parts[n].sha256 = strcmp(argv[i + 2], "-") == 0 ? NULL : argv[i + 2];
        }
        dt_symbol_ingest_run(argv[2], argv[3], &lim, parts, n, in);
    }
    dt_limited_child_end(in, rc, &err);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "archive") == 0)
        return run_archive(argc, argv);
    if (strcmp(argv[1], "inflate") == 0)
        return run_inflate(argc, argv);
    if (strcmp(argv[1], "symbols") == 0)
        return run_symbols(argc, argv);
    return usage();
}
