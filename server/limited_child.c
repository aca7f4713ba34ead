/*
 * limited_child.c — see limited_child.h.
 *
 * The wait is dt_child_wait's (child_wait.h), as for the analysis child.
 * The result block is a memfd rather than an anonymous shared mapping
 * because exec drops mappings but keeps descriptors.
 */
#include "limited_child.h"

#include "child_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESULT_FD 3
#define HEAD_MAGIC 0x434c5444u /* "DTLC" */

typedef struct {
    uint32_t magic;
    uint32_t done;       /* the helper reported */
    uint64_t out_size;   /* bytes of result the parent expects */
    uint64_t memory;     /* the memory limit the helper applies to itself */
    dt_status rc;
    dt_error err;
} shared_head;

/* The result follows the head at an offset any type may start at. */
#define HEAD_SIZE ((sizeof(shared_head) + 15) & ~(size_t)15)

int dt_limited_helper_path(const char *name, char *out, size_t len)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = 0;
    int w = snprintf(out, len, "%s/%s", self, name);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* ---- parent side ---- */

static void set_limit(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };
    setrlimit(res, &rl);
}

/* The child between fork and exec: the server is multithreaded, so only
 * system calls here (no malloc, no stdio, no lock another thread may hold).
 * Never returns. */
__attribute__((noreturn)) static void exec_child(const dt_child_limits *lim, char *const argv[], int memfd,
                                                 pid_t parent)
{
    /* Dies with the server, even on kill -9; if the server died before the
     * prctl, we were reparented (not "getppid() == 1": in a container the
     * server is PID 1). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(125);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0)
        dup2(devnull, 0);
    if (memfd == RESULT_FD) {
        if (fcntl(RESULT_FD, F_SETFD, 0) != 0)
            _exit(126);
    } else if (dup2(memfd, RESULT_FD) != RESULT_FD) { /* dup2 clears close-on-exec */
        _exit(126);
    }
    close_range(RESULT_FD + 1, ~0u, 0);
    /* The server blocks or ignores signals in its threads; the limits work
     * by signals, so the helper starts from the defaults. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGXCPU, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);
    set_limit(RLIMIT_CORE, 0, 0);
    if (lim->cpu_seconds)
        set_limit(RLIMIT_CPU, lim->cpu_seconds, lim->cpu_seconds + 2);
    if (lim->fsize)
        set_limit(RLIMIT_FSIZE, lim->fsize, lim->fsize);
    execv(argv[0], argv);
    _exit(127);
}

dt_status dt_limited_run(const dt_child_limits *lim, char *const argv[], void *out, size_t out_size,
                         bool *cancelled, dt_error *err)
{
    if (cancelled)
        *cancelled = false;
    size_t map_size = HEAD_SIZE + out_size;
    int memfd = memfd_create("dumptriage-result", MFD_CLOEXEC);
    if (memfd < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create the child's result block: %s", strerror(errno));
    if (ftruncate(memfd, (off_t)map_size) != 0) {
        int e = errno;
        close(memfd);
        return dt_error_set(err, DT_ERR_IO, "cannot size the child's result block: %s", strerror(e));
    }
    void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        close(memfd);
        return dt_error_set(err, DT_ERR_IO, "cannot map the child's result block: %s", strerror(e));
    }
    shared_head *sh = map;
    sh->magic = HEAD_MAGIC;
    sh->out_size = out_size;
    sh->memory = lim->memory;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        munmap(map, map_size);
        close(memfd);
        return dt_error_set(err, DT_ERR_IO, "cannot fork: %s", strerror(e));
    }
    if (pid == 0)
        exec_child(lim, argv, memfd, parent);
    close(memfd);

    int64_t start = dt_mono_ms();
    dt_child_wait_spec ws = { .deadline_ms = lim->timeout_seconds ? start + (int64_t)lim->timeout_seconds * 1000 : 0,
                              .cancelled = lim->cancelled, .cancel_arg = lim->cancel_arg };
    dt_child_wait_result wr;
    dt_child_wait(pid, &ws, &wr);
    int status = wr.status;

    dt_status rc;
    if (wr.timed_out) {
        rc = dt_error_set(err, DT_ERR_CORRUPT, "took longer than the limit of %u s", lim->timeout_seconds);
    } else if (wr.cancelled) {
        if (cancelled)
            *cancelled = true;
        rc = dt_error_set(err, DT_ERR_IO, "cancelled");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->done) {
        rc = sh->rc;
        if (err) {
            *err = sh->err;
            err->message[sizeof err->message - 1] = 0; /* the helper's bytes: terminated here */
        }
        if (rc != DT_OK && err && !err->message[0])
            dt_error_set(err, rc, "failed");
        memcpy(out, (char *)map + HEAD_SIZE, out_size);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        rc = dt_error_set(err, DT_ERR_IO, "could not start %s (it belongs beside the server binary)", argv[0]);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        rc = dt_error_set(err, DT_ERR_CORRUPT, "used more than the limit of %u CPU seconds", lim->cpu_seconds);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && lim->cpu_seconds
               && (int64_t)wr.usage.ru_utime.tv_sec + wr.usage.ru_stime.tv_sec >= (int64_t)lim->cpu_seconds) {
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
        rc = dt_error_set(err, DT_ERR_IO, "ended with status %d without a result",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    munmap(map, map_size);
    return rc;
}

/* ---- helper side ---- */

/* Address space the helper starts with (its libraries, and under a
 * sanitizer the shadow), so the limit is what it may add. */
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

void *dt_limited_child_begin(size_t out_size)
{
    struct stat st;
    if (fstat(RESULT_FD, &st) != 0 || (uint64_t)st.st_size < HEAD_SIZE)
        return NULL;
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, RESULT_FD, 0);
    if (map == MAP_FAILED)
        return NULL;
    close(RESULT_FD);
    shared_head *sh = map;
    if (sh->magic != HEAD_MAGIC)
        return NULL;
    if (sh->out_size != out_size || (uint64_t)st.st_size != HEAD_SIZE + out_size) {
        sh->rc = dt_error_set(&sh->err, DT_ERR_IO, "%s does not match the server (result of %llu bytes, not %zu)",
                              DT_UNPACK_HELPER, (unsigned long long)sh->out_size, out_size);
        sh->done = 1;
        return NULL;
    }
    if (sh->memory) {
        uint64_t as = current_vm() + sh->memory;
        set_limit(RLIMIT_AS, (rlim_t)as, (rlim_t)as);
    }
    return (char *)map + HEAD_SIZE;
}

void dt_limited_child_end(void *out, dt_status rc, const dt_error *err)
{
    shared_head *sh = (shared_head *)((char *)out - HEAD_SIZE);
    sh->rc = rc;
    if (err)
        sh->err = *err;
    sh->done = 1;
}
