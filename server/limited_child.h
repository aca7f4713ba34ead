/*
 * limited_child.h — running a job on hostile input in a helper program under
 * hard limits: address space, CPU seconds, largest file written, wall clock.
 *
 * Used for the work on hostile input that the server does itself rather
 * than through the analyzer: unpacking archives, inflating `.dmp.gz`, and
 * identifying uploaded symbol files.  The decoders (libarchive's xz, 7z,
 * bzip2, zstd…) allocate what the input asks for and run as long as it
 * lasts; in a child, RLIMIT_AS caps that memory and the wall clock that
 * time, and what the child costs is freed when it ends, whatever state it
 * is left in — none of which an in-process decoder can promise.
 *
 * The child execs a helper program (dumptriage-unpack, unpack_main.c),
 * found beside the server binary as the analyzer is: a fork of the
 * multithreaded server that ran library code without exec could hang on a
 * lock another thread held at the fork (POSIX allows only async-signal-safe
 * calls there; seen with ASan's allocator, docs/reliability.md).  Between
 * fork and exec only system calls run.
 *
 * The protocol, both halves of it here: the job's inputs are the helper's
 * argv (paths and numbers); its status, error and a fixed-size result come
 * back through a memfd the parent maps and the helper finds as fd 3.  The
 * mapping's head also carries the memory limit, which the helper applies to
 * itself on start (what it may add to the address space it starts with, so
 * the same figure works for a sanitizer build, whose shadow is terabytes).
 */
#ifndef DT_SERVER_LIMITED_CHILD_H
#define DT_SERVER_LIMITED_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    uint64_t memory;          /* bytes of address space the helper may add to what it
                                 starts with (RLIMIT_AS); 0: no limit */
    unsigned cpu_seconds;     /* RLIMIT_CPU (SIGXCPU, SIGKILL 2 s later); 0: none */
    unsigned timeout_seconds; /* wall clock, then SIGKILL; 0: none */
    uint64_t fsize;           /* RLIMIT_FSIZE: largest file it may write; 0: none */
    bool (*cancelled)(void *arg); /* polled (~10 times a second); true kills the child */
    void *cancel_arg;
} dt_child_limits;

/* The helper program's file name, installed beside dumptriage-server. */
#define DT_UNPACK_HELPER "dumptriage-unpack"

/* out gets the path of the program `name` in the directory of this
 * process's own binary (/proc/self/exe).  0, or -1 if that cannot be read
 * or does not fit. */
int dt_limited_helper_path(const char *name, char *out, size_t len);

/* Parent side.  Runs argv (argv[0]: the helper's path; NULL-terminated) in
 * a child under lim and waits for it.  If the helper reported: its status,
 * err and out (out_size bytes) as it left them.  If a limit ended it:
 * DT_ERR_CORRUPT for the input's fault (time, CPU, output size: "took
 * longer than the limit of 600 s"), DT_ERR_NOMEM for memory (a child killed
 * by a signal after an allocation failed), and DT_ERR_IO if it could not be
 * started, ended without a report, or was cancelled (*cancelled set). */
dt_status dt_limited_run(const dt_child_limits *lim, char *const argv[], void *out, size_t out_size,
                         bool *cancelled, dt_error *err);

/* Helper side.  Maps the result block (fd 3), checks that the parent
 * expects out_size bytes of result, and applies the memory limit.  The
 * result area (zeroed), or NULL when this process was not started by
 * dt_limited_run or the sizes differ (a helper from another build: then
 * that is reported to the parent if possible, and the helper should exit). */
void *dt_limited_child_begin(size_t out_size);
/* Reports the job's status and error (err may be NULL) through the block
 * whose result area is out (from dt_limited_child_begin), which must be
 * filled before. */
void dt_limited_child_end(void *out, dt_status rc, const dt_error *err);

#endif
