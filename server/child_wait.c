/*
 * child_wait.c — see child_wait.h.
 */
#include "child_wait.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How often, at most, a pidfd wait wakes to check the deadline and the
 * cancel callback. */
#define WAKE_MS 100
/* The sleep of the fallback loop. */
#define FALLBACK_SLEEP_MS 20

int64_t dt_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pidfd for our (unreaped) child, or -1: then the caller polls.  The raw
 * syscall, because the glibc wrapper (2.36) is newer than some systems the
 * server may be built on.  CLOEXEC: other workers' children never inherit
 * it. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? (int)fd : -1;
#else
    (void)pid;
    return -1;
#endif
}

void dt_child_wait(pid_t pid, const dt_child_wait_spec *spec, dt_child_wait_result *out)
{
    memset(out, 0, sizeof *out);
    int pidfd = open_pidfd(pid);
    for (;;) {
        pid_t w = wait4(pid, &out->status, WNOHANG, &out->usage);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            out->status = 0;
            break;
        }
        bool killed = out->timed_out || out->cancelled;
        if (!killed) {
            if (spec->deadline_ms && dt_mono_ms() >= spec->deadline_ms)
                out->timed_out = true;
            else if (spec->cancelled && spec->cancelled(spec->cancel_arg))
                out->cancelled = true;
            if (out->timed_out || out->cancelled) {
                if (spec->kill_group)
                    kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                killed = true;
            }
        }
        if (pidfd >= 0) {
            /* Readable once the child has exited; wake early enough for the
             * deadline, and every WAKE_MS for the cancel callback. */
            int64_t wait = WAKE_MS;
            if (!killed && spec->deadline_ms) {
                int64_t left = spec->deadline_ms - dt_mono_ms();
                if (left < wait)
                    wait = left > 0 ? left : 0;
            }
            struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
            (void)poll(&pfd, 1, (int)wait); /* EINTR or timeout: the loop rechecks */
        } else {
            struct timespec ts = { 0, FALLBACK_SLEEP_MS * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
}
