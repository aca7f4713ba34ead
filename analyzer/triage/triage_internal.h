/*
 * triage_internal.h — the working model shared by the triage files:
 * one entry per thread, with its user and kernel frames normalised once.
 * Not part of the library's interface.
 */
#ifndef DT_TRIAGE_INTERNAL_H
#define DT_TRIAGE_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addrspace.h"
#include "triage/rules.h"

typedef struct {
    const cJSON *json;    /* the report's frame object */
    char norm[512];       /* "kernelbase!readfile" or "hello_block" (no function) */
    char mod[128];        /* normalised module ("nt", "kernelbase") */
    char display[640];    /* "kernelbase!ReadFile+0x148", WinDbg style */
    char name[512];       /* "kernelbase!ReadFile" (no offset) or "module+0x…" */
    bool named;
    uint64_t sp;
    bool has_sp;
} dt_tframe;

typedef struct {
    uint64_t tid;
    uint64_t pid;
    bool has_pid;
    const char *name;
    const cJSON *uthread;
    const cJSON *kthread;
    dt_tframe *uf, *kf;
    size_t nuf, nkf;
    size_t order;            /* position in the user (or kernel) thread list */

    /* analysis */
    const char *state;       /* "running", "ready", "waiting", "crashed", "unknown" */
    const char *state_source;
    bool stuck, idle;
    const dt_rule *idle_rule;
    const dt_rule *blocking;
    int blocking_idx;        /* user frame index, -1 */
    int first_app_idx;       /* user frame index, -1 */
    char syscall[128];       /* "NtReadFile" or "" */
    int syscall_user_idx, syscall_kernel_idx;
    int kernel_fold_count;   /* kernel frames [0, n) added by the dump writer */
    int kernel_wait_idx, driver_idx;
    double wait_seconds;
    bool has_wait_seconds;
    uint64_t lock_addr, lock_owner;
    bool has_lock;
    bool in_deadlock;
    int score;               /* for choosing the primary thread */
    bool lock_strong;        /* the section's DebugInfo points back at it */
    bool win32k_msg_guess;   /* blocking read from a win32u stub's registers (triage.c) */

    /* wait_graph.c */
    cJSON *waits_on;         /* owned: this thread's waits_for edges as JSON */
    char link[512];          /* "waits for mutex 0x34 owned by thread 244", or "" */
    uint64_t *blocked;       /* owned: threads waiting on this one, transitively */
    size_t nblocked;
    bool has_timeout;        /* a finite timeout was read for its wait */
    double timeout_ms;
    char timeout_source[160];
    bool graph_root;         /* the root cause of the process's wait chains */

    /* CPU time (ThreadInfoList or KTHREAD) */
    bool has_cpu;
    double cpu_user_ms, cpu_kernel_ms;
    const char *cpu_source;
    /* io_wait.c: the pending IRP the thread's I/O system call waits for */
    const cJSON *io_irp;     /* the kernel thread's irps[] entry, or NULL */
    const dt_rule *io_rule;  /* the io_driver rule of the driver holding it, or NULL */
    char io_driver[64];      /* normalised holder ("condrv"), "" when none */

    /* user_locks.c: an SRW lock or condition variable the thread waits on */
    const char *ulock_kind;  /* "srw_lock", "condition_variable", NULL */
    uint64_t ulock_addr;     /* the lock / condition variable */
    bool ulock_shared;       /* AcquireSRWLockShared */
    uint64_t ulock_assoc;    /* condition variable: the lock it released, 0 unknown */
    bool ulock_assoc_cs;     /* … a critical section (else an SRW lock) */
    const char *ulock_conf;  /* "likely", "guess" */
    char ulock_source[320];
    char ulock_state[48];    /* "value 0x…" */
    bool has_ulock_holder;   /* a possible SRW holder (a guess) */
    uint64_t ulock_holder;
    bool loader_wait;        /* waits inside the loader (no critical section found) */
    char loader_wait_frame[128];
} dt_tthread;

typedef struct {
    const dt_rules *rules;
    const dt_addrspace *user_memory;
    dt_tthread *threads;
    size_t count;
    /* user_locks.c: PEB.LoaderLock and its OwningThread (0: not owned) */
    bool has_loader_lock;
    uint64_t loader_lock, loader_lock_owner;
} dt_tmodel;

/* frames.c */
dt_tframe *dt_tframes_from_json(const dt_rules *r, const cJSON *frames, size_t *count);
bool dt_tframe_is_system(const dt_rules *r, const dt_tframe *f);

/* locks.c: finds critical-section owners and lock cycles; appends
 * "deadlocks" entries to out_deadlocks. */
void dt_triage_find_locks(dt_tmodel *m, cJSON *out_deadlocks);

/* user_locks.c: SRW locks and condition variables waited on (address from
 * the unwinder's recovered registers), the loader lock (PEB.LoaderLock) and
 * threads waiting inside the loader.  Run after dt_triage_find_locks. */
void dt_triage_user_locks(dt_tmodel *m);
/* The threads waiting on the SRW lock / condition variable at addr, as
 * "244 exclusive, 252 shared" into out; returns their number. */
size_t dt_triage_user_lock_waiters(const dt_tmodel *m, uint64_t addr, char *out, size_t cap);

/* wait_graph.c: edges from every source, chains, cycles and the root cause;
 * adds "wait_graph", "chains" and "root_cause" to triage, appends cycles that
 * are not pure critical-section cycles to deadlocks, fills the threads'
 * graph fields.  Returns the root-cause thread or NULL. */
dt_tthread *dt_triage_wait_graph(dt_tmodel *m, const cJSON *user, cJSON *triage, cJSON *deadlocks);
void dt_triage_wait_graph_free(dt_tmodel *m);

/* thread_activity.c: CPU times, timed and alertable waits, running threads'
 * verdicts and the rule behind every verdict. */
void dt_triage_cpu_times(dt_tmodel *m);
void dt_triage_timed_waits(dt_tmodel *m);
void dt_triage_activity_verdict(const dt_tmodel *m, const dt_tthread *t, char *verdict, size_t vsz);
void dt_triage_activity_rule(const dt_tthread *t, char *rule, size_t rule_cap);
void dt_triage_activity_json(const dt_tthread *t, cJSON *o);

/* triage.c: "amdppm.sys+0x334c" for a bugcheck whose parameters point into a
 * driver other than the kernel's core; false when none does. */
bool dt_triage_bugcheck_faulting_module(const dt_rules *r, const cJSON *kernel, char *out, size_t outsz);

/* True for bugcheck codes that mean "someone forced this dump", not a
 * crash: LIVE_SYSTEM_DUMP, MANUALLY_INITIATED_CRASH(1), power-button hold. */
bool dt_triage_bugcheck_is_forced(uint64_t code);

/* io_wait.c: finds the IRP a thread in an I/O system call waits for
 * (kernel threads[].irps[]) and who holds it; builds the verdict phrase
 * (false when there is none) and the thread's "io" object. */
void dt_triage_io_analyse(const dt_rules *r, dt_tthread *t);
bool dt_triage_io_phrase(const dt_tthread *t, const char *what, char *out, size_t cap);
void dt_triage_io_add_json(const dt_tthread *t, cJSON *thread_out);

/* signature.c */
void dt_triage_signature(const dt_tmodel *m, const dt_tthread *primary, const cJSON *user,
                         const cJSON *kernel, cJSON *triage);

#endif
