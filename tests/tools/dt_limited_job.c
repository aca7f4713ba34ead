/*
 * dt_limited_job.c — TEST-ONLY helper program for tests/unit/
 * test_limited_child.c: the other end of limited_child.h's protocol, with
 * jobs that misbehave on purpose (the server's own helper, dumptriage-unpack,
 * has only real jobs).  Usage, as dt_limited_run starts it:
 *   dt_limited_job answer N | refuse | sleep | spin | hog | write PATH | descriptors
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limited_child.h"

/* Under AddressSanitizer a failed allocation aborts the process unless
 * told otherwise; the hog must see NULL as in the plain build. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *job = argv[1];
    int *out = dt_limited_child_begin(sizeof *out);
    if (!out)
        return 2;
    dt_error err = { 0 };
    dt_status rc = DT_OK;
    if (strcmp(job, "answer") == 0 && argc > 2) {
        *out = atoi(argv[2]) * 2;
    } else if (strcmp(job, "refuse") == 0) {
        rc = dt_error_set(&err, DT_ERR_FORMAT, "not an archive");
    } else if (strcmp(job, "sleep") == 0) {
        sleep(30);
    } else if (strcmp(job, "spin") == 0) {
        volatile unsigned long x = 0;
        for (;;)
            x++;
    } else if (strcmp(job, "hog") == 0) {
        /* 4 GiB in 64 MiB steps, each touched: stops at the limit.  Freed
         * after, so that LeakSanitizer (the ASan build) has nothing to say at
         * exit, which would make the exit status 1. */
        static char *blocks[64];
        int n = 0;
        for (; n < 64 && rc == DT_OK; n++) {
            blocks[n] = malloc(64u << 20);
            if (!blocks[n])
                rc = dt_error_set(&err, DT_ERR_NOMEM, "out of memory after %d MiB", n * 64);
            else
                memset(blocks[n], 1, 64u << 20);
        }
        for (int i = 0; i < n; i++)
            free(blocks[i]);
    } else if (strcmp(job, "write") == 0 && argc > 2) {
        FILE *f = fopen(argv[2], "wb");
        if (!f)
            return 3;
        static char buf[1 << 16];
        for (int i = 0; i < 64; i++)
            if (fwrite(buf, 1, sizeof buf, f) != sizeof buf || fflush(f) != 0)
                break;
        fclose(f);
    } else if (strcmp(job, "descriptors") == 0) {
        /* How many descriptors above stderr it was given (the result
         * block, fd 3, is closed by dt_limited_child_begin). */
        int n = 0;
        for (int fd = 3; fd < 1024; fd++)
            n += fcntl(fd, F_GETFD) != -1;
        *out = n;
    } else {
        return 2;
    }
    dt_limited_child_end(out, rc, &err);
    return 0;
}
