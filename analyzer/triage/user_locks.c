/*
 * user_locks.c — the user-memory locks a thread waits on that are not
 * critical sections found by locks.c: SRW locks, condition variables, and
 * the loader lock by name (docs/triage.md "SRW locks, condition variables
 * and the loader lock").
 *
 * Windows records no owner for an SRW lock or a condition variable, and a
 * waiting thread's argument registers are volatile, so the address is read
 * from the non-volatile registers the unwinder recovered per frame
 * (report frames' "nonvolatile", docs/report.md): the Rtl function keeps its
 * pointer argument in one while it waits, and the frames below it hold the
 * address actually waited on (Wine's RtlWaitOnAddress, the Address hint of
 * NtWaitForAlertByThreadId).  Both recoveries agreeing make the address
 * "likely"; one alone is a "guess".  The loader lock is the critical section
 * PEB.LoaderLock points at (ntdll!LdrpLoaderLock; Wine's loader_section).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* Registers a caller frame carries (frames_json.c writes these). */
static const char *const NV_REGS[] = { "rbx", "rbp", "rsi", "rdi", "r12", "r13", "r14", "r15" };
#define NV_COUNT (sizeof NV_REGS / sizeof NV_REGS[0])
/* Candidate addresses per frame set; the registers bound it. */
#define MAX_CANDS 32
/* How far above a thread's stack pointer the holder search looks. */
#define HOLDER_SCAN_BYTES 0x2000u

static const cJSON *get(const cJSON *o, const char *k)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool fn_is(const dt_tframe *f, const char *const *names)
{
    const char *bang = strchr(f->norm, '!');
    if (!bang)
        return false;
    for (; *names; names++)
        if (strcmp(bang + 1, *names) == 0)
            return true;
    return false;
}

/* On some thread's stack: a wait block or a local, not a lock object. */
static bool on_a_stack(const dt_tmodel *m, uint64_t va)
{
    for (size_t i = 0; i < m->count; i++) {
        uint64_t lo, hi;
        const cJSON *u = m->threads[i].uthread;
        if (u && dt_json_u64(u, "stack_start", &lo) && dt_json_u64(u, "stack_end", &hi) && va >= lo && va < hi)
            return true;
    }
    return false;
}

/* A plausible lock object: aligned to its pointer size after Wine's
 * exclusive-waiter key (lock + 2) is folded back, readable, off the stacks. */
static bool lock_shaped(const dt_tmodel *m, uint64_t v, uint64_t *lock)
{
    const dt_addrspace *as = m->user_memory;
    unsigned ps = as->pointer_size == 4 ? 4 : 8;
    if (v < 0x10000 || v >= UINT64_C(0x800000000000))
        return false;
    if ((v & (ps - 1)) == 2)
        v -= 2;
    if (v & (ps - 1))
        return false;
    uint64_t x;
    if (!dt_as_ptr(as, v, &x) || on_a_stack(m, v))
        return false;
    *lock = v;
    return true;
}

static size_t add_cand(uint64_t *c, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (c[i] == v)
            return n;
    if (n < MAX_CANDS)
        c[n++] = v;
    return n;
}

static size_t frame_cands(const dt_tmodel *m, const dt_tframe *f, uint64_t *c, size_t n)
{
    const cJSON *nv = get(f->json, "nonvolatile");
    for (size_t k = 0; nv && k < NV_COUNT; k++) {
        uint64_t v, lock;
        if (dt_json_u64(nv, NV_REGS[k], &v) && lock_shaped(m, v, &lock))
            n = add_cand(c, n, lock);
    }
    return n;
}

static bool in(const uint64_t *c, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (c[i] == v)
            return true;
    return false;
}

/* An RTL_CRITICAL_SECTION whose DebugInfo points back at it (as !cs checks). */
static bool is_critical_section(const dt_tmodel *m, uint64_t va)
{
    const dt_addrspace *as = m->user_memory;
    unsigned ps = as->pointer_size == 4 ? 4 : 8;
    uint64_t dbg, back;
    return dt_as_ptr(as, va, &dbg) && dbg && dbg != UINT64_MAX && dbg != 0xffffffffu &&
           dt_as_ptr(as, dbg + (ps == 8 ? 8 : 4), &back) && back == va;
}

static void find_user_lock(dt_tmodel *m, dt_tthread *t)
{
    static const char *const srw_x[] = { "rtlacquiresrwlockexclusive", NULL };
    static const char *const srw_s[] = { "rtlacquiresrwlockshared", NULL };
    static const char *const cv_srw[] = { "rtlsleepconditionvariablesrw", "sleepconditionvariablesrw", NULL };
    static const char *const cv_cs[] = { "rtlsleepconditionvariablecs", "sleepconditionvariablecs", NULL };
    static const char *const alert[] = { "ntwaitforalertbythreadid", "zwwaitforalertbythreadid", NULL };
    int rtl = -1;
    const char *kind = NULL;
    bool shared = false, cs_assoc = false;
    size_t lim = t->blocking_idx >= 0 ? (size_t)t->blocking_idx + 1 : t->nuf;
    for (size_t i = 1; i < t->nuf && i < lim + 1 && i < 12 && rtl < 0; i++) {
        const dt_tframe *f = &t->uf[i];
        if (fn_is(f, srw_x) || fn_is(f, srw_s)) {
            kind = "srw_lock";
            shared = fn_is(f, srw_s);
        } else if (fn_is(f, cv_srw) || fn_is(f, cv_cs)) {
            kind = "condition_variable";
            cs_assoc = fn_is(f, cv_cs);
        } else {
            continue;
        }
        rtl = (int)i;
    }
    if (rtl < 0)
        return;
    /* The Rtl frame's own registers (its argument) … */
    uint64_t a[MAX_CANDS], d[MAX_CANDS];
    size_t na = frame_cands(m, &t->uf[rtl], a, 0), nd = 0;
    /* … and what the frames below it wait on. */
    for (int i = 1; i < rtl; i++)
        nd = frame_cands(m, &t->uf[i], d, nd);
    uint64_t hint, lock;
    bool hint_used = false;
    if (fn_is(&t->uf[0], alert) && t->uthread &&
        (dt_json_u64(get(t->uthread, "registers"), "r10", &hint) && hint && lock_shaped(m, hint, &lock))) {
        nd = add_cand(d, nd, lock);
        hint_used = true;
    }
    uint64_t waited = 0, assoc = 0;
    size_t nboth = 0;
    for (size_t i = 0; i < na; i++)
        if (in(d, nd, a[i])) {
            waited = a[i];
            nboth++;
        }
    const char *conf = "likely";
    char how[320];
    if (nboth == 1) {
        snprintf(how, sizeof how, "the %.120s frame's recovered non-volatile registers and %s agree", t->uf[rtl].name,
                 hint_used ? "NtWaitForAlertByThreadId's address argument (r10)" : "the wait frames below it");
    } else {
        /* One source: the Rtl frame's registers alone. */
        conf = "guess";
        waited = 0;
        size_t nplain = 0;
        for (size_t i = 0; i < na; i++)
            if (!(cs_assoc && is_critical_section(m, a[i]))) {
                waited = a[i];
                nplain++;
            }
        if (nplain != 1 || (strcmp(kind, "condition_variable") == 0 && !cs_assoc))
            return; /* ambiguous: say nothing rather than guess between pointers */
        snprintf(how, sizeof how, "the only lock-shaped value among the %.120s frame's recovered non-volatile registers",
                 t->uf[rtl].name);
    }
    if (strcmp(kind, "condition_variable") == 0) {
        /* The lock it released (and takes again on waking): the other
         * lock-shaped argument the Rtl frame holds. */
        for (size_t i = 0; i < na; i++)
            if (a[i] != waited && (!cs_assoc || is_critical_section(m, a[i]))) {
                if (assoc) {
                    assoc = 0;
                    break;
                }
                assoc = a[i];
            }
    }
    t->ulock_kind = kind;
    t->ulock_addr = waited;
    t->ulock_shared = shared;
    t->ulock_assoc = assoc;
    t->ulock_assoc_cs = cs_assoc;
    t->ulock_conf = conf;
    snprintf(t->ulock_source, sizeof t->ulock_source, "user stack: %.300s", how);
    uint64_t v;
    if (dt_as_u64(m->user_memory, waited, &v))
        snprintf(t->ulock_state, sizeof t->ulock_state, "value 0x%" PRIx64, v);
}

/* The one thread, other than the lock's waiters, whose live stack or
 * recovered registers hold the lock's address: a possible holder (a guess:
 * Windows records no SRW owner). */
static void guess_holder(dt_tmodel *m, dt_tthread *w)
{
    const dt_addrspace *as = m->user_memory;
    unsigned ps = as->pointer_size == 4 ? 4 : 8;
    const dt_tthread *found = NULL;
    size_t nfound = 0;
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        if (!t->uthread || t->nuf == 0 || !t->uf[0].has_sp ||
            (t->ulock_kind && t->ulock_addr == w->ulock_addr))
            continue;
        bool hit = false;
        for (size_t f = 1; f < t->nuf && f < 12 && !hit; f++) {
            const cJSON *nv = get(t->uf[f].json, "nonvolatile");
            for (size_t k = 0; nv && k < NV_COUNT && !hit; k++) {
                uint64_t v;
                hit = dt_json_u64(nv, NV_REGS[k], &v) && (v == w->ulock_addr || v == w->ulock_addr + 2);
            }
        }
        for (uint64_t va = t->uf[0].sp; !hit && va + ps <= t->uf[0].sp + HOLDER_SCAN_BYTES; va += ps) {
            uint64_t v;
            if (!dt_as_ptr(as, va, &v))
                break;
            hit = v == w->ulock_addr;
        }
        if (hit) {
            found = t;
            nfound++;
        }
    }
    if (nfound == 1) {
        w->ulock_holder = found->tid;
        w->has_ulock_holder = true;
    }
}

/* PEB.LoaderLock and its OwningThread (x64: TEB+0x60 → PEB, PEB+0x110;
 * x86: TEB+0x30, PEB+0xa0; RTL_CRITICAL_SECTION.OwningThread +0x10 / +0x0c). */
static void find_loader_lock(dt_tmodel *m)
{
    const dt_addrspace *as = m->user_memory;
    bool x64 = as->pointer_size != 4;
    for (size_t i = 0; i < m->count && !m->has_loader_lock; i++) {
        uint64_t teb, peb, ll, owner;
        if (!m->threads[i].uthread || !dt_json_u64(m->threads[i].uthread, "teb", &teb) || !teb)
            continue;
        if (!dt_as_ptr(as, teb + (x64 ? 0x60 : 0x30), &peb) || !peb ||
            !dt_as_ptr(as, peb + (x64 ? 0x110 : 0xa0), &ll) || !ll)
            continue;
        if (!dt_as_ptr(as, ll + (x64 ? 0x10 : 0x0c), &owner))
            continue;
        m->has_loader_lock = true;
        m->loader_lock = ll;
        m->loader_lock_owner = owner <= 0xffffffffu ? owner : 0;
    }
}

/* A thread waiting inside the loader without a critical section found on
 * its stack (Windows 10's loader waits for LdrpLoadCompleteEvent /
 * LdrpWorkCompleteEvent in LdrpDrainWorkQueue while another thread runs
 * DllMain under the loader lock). */
static void find_loader_wait(const dt_tmodel *m, dt_tthread *t)
{
    static const char *const loader[] = { "ldrpdrainworkqueue", "ldrploaddll", "ldrploaddllinternal",
                                          "ldrpwaitforinitialization", "ldrpinitializethread", "ldrloaddll",
                                          "ldrshutdownthread", "ldrpprocessinitializationcomplete", NULL };
    if (!m->has_loader_lock || !m->loader_lock_owner || m->loader_lock_owner == t->tid || t->has_lock ||
        !t->state || strcmp(t->state, "waiting") != 0)
        return;
    size_t lim = t->first_app_idx >= 0 ? (size_t)t->first_app_idx : t->nuf;
    for (size_t i = 1; i < lim && i < 16; i++)
        if (fn_is(&t->uf[i], loader)) {
            t->loader_wait = true;
            snprintf(t->loader_wait_frame, sizeof t->loader_wait_frame, "%.100s", t->uf[i].name);
            return;
        }
}

void dt_triage_user_locks(dt_tmodel *m)
{
    if (!m->user_memory || m->user_memory->pointer_size != 8)
        return;
    find_loader_lock(m);
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        if (!t->uthread || !t->blocking || !t->blocking->category)
            continue;
        if (strcmp(t->blocking->category, "srw_lock") == 0 ||
            strcmp(t->blocking->category, "condition_variable") == 0)
            find_user_lock(m, t);
    }
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        if (t->ulock_kind && strcmp(t->ulock_kind, "srw_lock") == 0)
            guess_holder(m, t);
        if (t->uthread)
            find_loader_wait(m, t);
    }
}

size_t dt_triage_user_lock_waiters(const dt_tmodel *m, uint64_t addr, char *out, size_t cap)
{
    size_t n = 0, l = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->count; i++) {
        const dt_tthread *t = &m->threads[i];
        if (!t->ulock_kind || t->ulock_addr != addr)
            continue;
        n++;
        if (l < cap)
            l += (size_t)snprintf(out + l, cap - l, "%s%" PRIu64 "%s", l ? ", " : "", t->tid,
                                  strcmp(t->ulock_kind, "srw_lock") == 0 ? (t->ulock_shared ? " shared" : " exclusive")
                                                                         : "");
    }
    return n;
}
