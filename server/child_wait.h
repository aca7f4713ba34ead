/*
 * child_wait.h — waiting for a child process under a wall clock and a cancel
 * callback, shared by the analysis child (analysis_child.c) and the limited
 * function child (limited_child.c).
 *
 * The wait wakes the moment the child exits (a pidfd; a short sleep loop
 * where the kernel has none), wakes at the deadline, and wakes at least every
 * 100 ms to ask the cancel callback, so a drain reaches a running child
 * within that time.
 */
#ifndef DT_SERVER_CHILD_WAIT_H
#define DT_SERVER_CHILD_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef struct {
    int64_t deadline_ms;              /* CLOCK_MONOTONIC ms; 0: none */
    bool (*cancelled)(void *arg);     /* polled; true kills the child (drain) */
    void *cancel_arg;
    bool kill_group;                  /* the child leads a process group: kill it all */
} dt_child_wait_spec;

typedef struct {
    int status;                       /* waitpid status (0 if waiting failed) */
    struct rusage usage;              /* the child's resource use */
    bool timed_out, cancelled;        /* we killed it, and why */
} dt_child_wait_result;

/* Now, in CLOCK_MONOTONIC milliseconds (the clock of deadline_ms). */
int64_t dt_mono_ms(void);

/* Waits for child pid to end, killing it (SIGKILL) at the deadline or when
 * cancelled; reaps it. */
void dt_child_wait(pid_t pid, const dt_child_wait_spec *spec, dt_child_wait_result *out);

#endif
