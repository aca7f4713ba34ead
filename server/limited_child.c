/*
 * limited_child.c — see limited_child.h.
 *
 * The wait is dt_child_wait's (child_wait.h), as for the analysis child.
 */
#include "limited_child.h"

#include "child_wait.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    dt_status rc;
    dt_error err;
    int done;       /* the child got to the end of fn */
} shared_head;

/* Address space the child starts with (inherited from the server: its
 * threads' stacks, libraries, heap), so the limit is what it may add. */
static uint64_t current_vm(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (f) {
        if (fscanf(f, "%llu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void set_limit(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };
    setrlimit(res, &rl);
}

static void child_main(pid_t parent, const dt_child_limits *lim, dt_limited_fn fn, void *arg, shared_head *sh,
                       void *out)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(120);
    /* The server may block or handle signals in its threads; the limits
     * work by signals, so the child starts from the defaults. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGXCPU, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    set_limit(RLIMIT_CORE, 0, 0);
    if (lim->cpu_seconds)
        set_limit(RLIMIT_CPU, lim->cpu_seconds, lim->cpu_seconds + 2);
    if (lim->fsize)
        set_limit(RLIMIT_FSIZE, lim->fsize, lim->fsize);
    if (lim->memory)
        set_limit(RLIMIT_AS, current_vm() + lim->memory, current_vm() + lim->memory);
    sh->rc = fn(arg, out, &sh->err);
    sh->done = 1;
    _exit(0);
}

dt_status dt_limited_call(const dt_child_limits *lim, dt_limited_fn fn, void *arg, void *out, size_t out_size,
                          bool *cancelled, dt_error *err)
{
    if (cancelled)
        *cancelled = false;
    /* The result follows the head at an offset any type may start at. */
    size_t head_size = (sizeof(shared_head) + 15) & ~(size_t)15;
    size_t map_size = head_size + out_size;
    void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return dt_error_set(err, DT_ERR_IO, "cannot map the child's result: %s", strerror(errno));
    shared_head *sh = map;
    void *child_out = (char *)map + head_size;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        munmap(map, map_size);
        return dt_error_set(err, DT_ERR_IO, "cannot fork: %s", strerror(errno));
    }
    if (pid == 0)
        child_main(parent, lim, fn, arg, sh, child_out);

    int64_t start = dt_mono_ms();
    dt_child_wait_spec ws = { .deadline_ms = lim->timeout_seconds ? start + (int64_t)lim->timeout_seconds * 1000 : 0,
                              .cancelled = lim->cancelled, .cancel_arg = lim->cancel_arg };
    dt_child_wait_result wr;
    dt_child_wait(pid, &ws, &wr);
    int status = wr.status;
    bool timed_out = wr.timed_out, was_cancelled = wr.cancelled;

    dt_status rc;
    if (timed_out) {
        rc = dt_error_set(err, DT_ERR_CORRUPT, "took longer than the limit of %u s", lim->timeout_seconds);
    } else if (was_cancelled) {
        if (cancelled)
            *cancelled = true;
        rc = dt_error_set(err, DT_ERR_IO, "cancelled");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->done) {
        rc = sh->rc;
        if (err)
            *err = sh->err;
        if (rc != DT_OK && err && !err->message[0])
            dt_error_set(err, rc, "failed");
        memcpy(out, child_out, out_size);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        rc = dt_error_set(err, DT_ERR_CORRUPT, "used more than the limit of %u CPU seconds", lim->cpu_seconds);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && lim->cpu_seconds
               && dt_mono_ms() - start >= (int64_t)lim->cpu_seconds * 1000) {
        rc = dt_error_set(err, DT_ERR_CORRUPT, "used more than the limit of %u CPU seconds", lim->cpu_seconds);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) {
        rc = dt_error_set(err, DT_ERR_CORRUPT, "wrote a file larger than the limit of %llu bytes",
                          (unsigned long long)lim->fsize);
    } else if (WIFSIGNALED(status)) {
        /* Under RLIMIT_AS a decoder that does not check its allocations
         * dies of SIGSEGV (or abort()s): the memory limit is the likely
         * cause, but it is said as what was seen. */
        rc = dt_error_set(err, lim->memory ? DT_ERR_NOMEM : DT_ERR_IO,
                          "was killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                          lim->memory ? ", likely at the memory limit" : "");
    } else {
        rc = dt_error_set(err, DT_ERR_IO, "ended with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    munmap(map, map_size);
    return rc;
}
