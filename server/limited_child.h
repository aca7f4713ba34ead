/*
 * limited_child.h — running a function of the server in a forked child under
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
 * The child is fork()ed without exec: it runs fn with the server's code and
 * data (glibc keeps malloc usable in a fork child of a threaded process) and
 * returns its status, error and a fixed-size result through a shared
 * anonymous mapping, then _exit()s.  fn must not touch SQLite connections or
 * other threads' state, and should write files only under a directory the
 * caller removes afterwards (a killed child cannot clean up).
 */
#ifndef DT_SERVER_LIMITED_CHILD_H
#define DT_SERVER_LIMITED_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    uint64_t memory;          /* bytes of address space the child may add to what it
                                 inherits (RLIMIT_AS); 0: no limit */
    unsigned cpu_seconds;     /* RLIMIT_CPU (SIGXCPU, SIGKILL 2 s later); 0: none */
    unsigned timeout_seconds; /* wall clock, then SIGKILL; 0: none */
    uint64_t fsize;           /* RLIMIT_FSIZE: largest file it may write; 0: none */
    bool (*cancelled)(void *arg); /* polled (~5 times a second); true kills the child */
    void *cancel_arg;
} dt_child_limits;

/* The work: fills out (out_size bytes, zeroed) and returns its status, err
 * set on failure.  Runs in the child. */
typedef dt_status (*dt_limited_fn)(void *arg, void *out, dt_error *err);

/* Runs fn(arg, out, err) in a child under lim and waits for it.  If the
 * child ended normally: fn's status, err and out as the child left them.  If
 * a limit ended it: DT_ERR_CORRUPT for the input's fault (time, CPU, output
 * size: "unpacking took longer than 600 s"), DT_ERR_NOMEM for memory (a
 * child killed by SIGKILL/SIGSEGV after an allocation failed), and
 * DT_ERR_IO if it could not be started or was cancelled (*cancelled set). */
dt_status dt_limited_call(const dt_child_limits *lim, dt_limited_fn fn, void *arg, void *out, size_t out_size,
                          bool *cancelled, dt_error *err);

#endif
