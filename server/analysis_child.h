/*
 * analysis_child.h — running the analyzer as a child process under limits.
 *
 * The analyzer parses hostile input; running it in a child means a crash, a
 * hang or a memory blow-up costs only that child.  Limits: address space
 * (RLIMIT_AS), CPU seconds (RLIMIT_CPU), output size (RLIMIT_FSIZE), no core
 * files, and a wall-clock timeout enforced by killing the child's process
 * group.
 */
#ifndef DT_SERVER_ANALYSIS_CHILD_H
#define DT_SERVER_ANALYSIS_CHILD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    char *const *argv;          /* argv[0] is the binary's path */
    const char *out_path;       /* child's stdout goes here (created) */
    const char *err_path;       /* child's stderr goes here (created) */
    uint64_t as_limit;          /* bytes; 0: none */
    unsigned cpu_seconds;       /* 0: none */
    uint64_t fsize_limit;       /* bytes; 0: none */
    unsigned timeout_seconds;
    const char *hook;           /* tests: crash | hang | cpu | memory, run instead of exec; NULL normally */
    bool (*cancelled)(void *arg);/* polled; true kills the child (drain) */
    void *cancel_arg;
} dt_child_spec;

typedef struct {
    int exited, exit_code;      /* normal exit */
    int signaled, signal;       /* killed by a signal (not ours) */
    int timed_out;              /* we killed it: wall clock */
    int cancelled;              /* we killed it: cancelled() */
    int64_t duration_ms;
    int64_t cpu_ms;             /* CPU time the child used */
} dt_child_result;

/* Runs the child to its end.  DT_OK when the child ran (see result), an
 * error if it could not be started. */
dt_status dt_child_run(const dt_child_spec *spec, dt_child_result *result, dt_error *err);

#endif
