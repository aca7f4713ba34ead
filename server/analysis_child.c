/*
 * analysis_child.c — see analysis_child.h.
 *
 * The server is multithreaded, so between fork and exec the child uses only
 * async-signal-safe calls (no malloc, no stdio); the child is a vfork
 * child where it may be (see dt_child_run).  The child leads its own
 * process group, so a timeout kills whatever it may have spawned too.
 *
 * The parent waits with dt_child_wait (child_wait.h): it wakes the moment
 * the child exits, so a job's result is stored without the up to 20 ms a
 * sleep-and-check loop would add.
 */
#include "analysis_child.h"

#include "child_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of address space for its shadow, so a
 * sanitizer build of the analyzer cannot run under RLIMIT_AS at all. */
#if defined(__SANITIZE_ADDRESS__)
#define DT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DT_SANITIZED 1
#endif
#endif
#ifndef DT_SANITIZED
#define DT_SANITIZED 0
#endif

static void set_limit(int resource, uint64_t value)
{
    struct rlimit rl = { (rlim_t)value, (rlim_t)value };
    setrlimit(resource, &rl);
}

static void run_hook(const char *hook)
{
    if (strcmp(hook, "crash") == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    } else if (strcmp(hook, "hang") == 0) {
        for (;;)
            pause();
    } else if (strcmp(hook, "cpu") == 0) {
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    } else if (strcmp(hook, "memory") == 0) {
        for (;;) {
            void *p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                static const char msg[] = "dumptriage: out of memory\n";
                (void)!write(2, msg, sizeof msg - 1);
                _exit(1);
            }
            memset(p, 1, 64 << 20);
        }
    }
    _exit(127);
}

/* The child, between vfork/fork and exec.  A function of its own so that,
 * after vfork, its locals live below dt_child_run's frame (which the
 * suspended parent still needs) and never overwrite it.  Only syscalls here:
 * no malloc, no stdio, nothing that takes a lock another thread may hold.
 * noinline keeps that frame separate.  Never returns. */
__attribute__((noreturn, noinline)) static void exec_child(const dt_child_spec *spec, int out, int errfd, pid_t parent)
{
    setpgid(0, 0);
    /* Dies with the server, even on kill -9: no orphaned analyses.  The
     * server may have died before the prctl: then we were reparented.
     * (Not "getppid() == 1": in a container the server is PID 1.) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(125);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out, 1);
    dup2(errfd, 2);
    close_range(3, ~0u, 0);
    /* Default dispositions: the server blocks SIGTERM/SIGINT in its threads. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    set_limit(RLIMIT_CORE, 0);
    if (spec->as_limit && (!DT_SANITIZED || spec->hook))
        set_limit(RLIMIT_AS, spec->as_limit);
    if (spec->cpu_seconds) {
        /* Soft limit: SIGXCPU, reported as cpu_limit; the hard limit
         * (a little later) kills a child that ignores it. */
        struct rlimit rl = { spec->cpu_seconds, (rlim_t)spec->cpu_seconds + 2 };
        setrlimit(RLIMIT_CPU, &rl);
    }
    if (spec->fsize_limit)
        set_limit(RLIMIT_FSIZE, spec->fsize_limit);
    if (spec->hook)
        run_hook(spec->hook);
    execv(spec->argv[0], spec->argv);
    static const char msg[] = "dumptriage: cannot start the analyzer\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(126);
}

dt_status dt_child_run(const dt_child_spec *spec, dt_child_result *res, dt_error *err)
{
    memset(res, 0, sizeof *res);
    int out = open(spec->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (out < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", spec->out_path, strerror(errno));
    int errfd = open(spec->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (errfd < 0) {
        close(out);
        return dt_error_set(err, DT_ERR_IO, "cannot create %s: %s", spec->err_path, strerror(errno));
    }
    int64_t start = dt_mono_ms();
    pid_t parent = getpid();
    /* vfork: the parent thread waits until the child has exec'd, and no page
     * table of the server is copied — measured ~3 ms less per job than fork
     * on a loaded 2-core machine (bench/bench_job_overhead.sh).  fork for the
     * test hooks, which run instead of exec and would keep the parent
     * suspended, and under the sanitizers, which need a child of their own. */
    pid_t pid = spec->hook || DT_SANITIZED ? fork() : vfork();
    if (pid < 0) {
        int e = errno;
        close(out);
        close(errfd);
        return dt_error_set(err, DT_ERR_IO, "cannot fork: %s", strerror(e));
    }
    if (pid == 0)
        exec_child(spec, out, errfd, parent);
    setpgid(pid, pid); /* also from the parent: no race with an early kill */
    close(out);
    close(errfd);
    dt_child_wait_spec ws = { .deadline_ms = start + (int64_t)spec->timeout_seconds * 1000,
                              .cancelled = spec->cancelled, .cancel_arg = spec->cancel_arg, .kill_group = true };
    dt_child_wait_result wr;
    dt_child_wait(pid, &ws, &wr);
    int status = wr.status;
    struct rusage usage = wr.usage;
    res->timed_out = wr.timed_out;
    res->cancelled = wr.cancelled;
    res->duration_ms = dt_mono_ms() - start;
    if (WIFEXITED(status)) {
        res->exited = 1;
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status) && !res->timed_out && !res->cancelled) {
        res->signaled = 1;
        res->signal = WTERMSIG(status);
    }
    res->cpu_ms = (int64_t)usage.ru_utime.tv_sec * 1000 + usage.ru_utime.tv_usec / 1000
                + (int64_t)usage.ru_stime.tv_sec * 1000 + usage.ru_stime.tv_usec / 1000;
    return DT_OK;
}
