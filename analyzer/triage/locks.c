/*
 * locks.c — who owns the lock a thread waits for, and lock cycles.
 *
 * A thread waiting in RtlEnterCriticalSection no longer has the lock's
 * address in a register we can trust, but its stack between the wait and the
 * application frame holds it (the argument, spilled or saved in a
 * non-volatile register's home).  We scan that stretch for pointers to
 * something shaped like an RTL_CRITICAL_SECTION whose OwningThread is another
 * thread of this process.  The match is strong when the section's DebugInfo
 * points back at it (RTL_CRITICAL_SECTION_DEBUG.CriticalSection), which is
 * how `!cs` validates a section too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "triage/triage_internal.h"

/* The scan never reads more than this much stack per thread. */
#define LOCK_SCAN_MAX_BYTES 0x4000u

typedef struct {
    uint64_t debug_info;
    int32_t lock_count;
    int32_t recursion_count;
    uint64_t owner;
} cs_fields;

static bool read_cs(const dt_addrspace *as, uint64_t va, cs_fields *cs)
{
    unsigned ps = as->pointer_size == 4 ? 4 : 8;
    uint8_t b[48];
    size_t need = ps == 8 ? 24 + 8 : 16;
    if (!dt_as_read_exact(as, va, b, need))
        return false;
    uint64_t v[4] = { 0 };
    if (ps == 8) {
        memcpy(&v[0], b, 8);
        cs->lock_count = (int32_t)(b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24);
        cs->recursion_count = (int32_t)(b[12] | b[13] << 8 | b[14] << 16 | (uint32_t)b[15] << 24);
        memcpy(&v[1], b + 16, 8);
    } else {
        uint32_t d, o;
        memcpy(&d, b, 4);
        cs->lock_count = (int32_t)(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24);
        cs->recursion_count = (int32_t)(b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24);
        memcpy(&o, b + 12, 4);
        v[0] = d;
        v[1] = o;
    }
    cs->debug_info = v[0];
    cs->owner = v[1];
    return true;
}

static const dt_tthread *thread_by_tid(const dt_tmodel *m, uint64_t tid)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->threads[i].tid == tid && m->threads[i].uthread)
            return &m->threads[i];
    return NULL;
}

/* 0 = not a lock owned by another thread, 1 = plausible, 2 = strong. */
static int cs_score(const dt_tmodel *m, const dt_tthread *t, uint64_t va)
{
    const dt_addrspace *as = m->user_memory;
    cs_fields cs;
    if (!read_cs(as, va, &cs))
        return 0;
    if (cs.owner == 0 || cs.owner == t->tid || cs.owner > 0xffffffffu)
        return 0;
    if (!thread_by_tid(m, cs.owner))
        return 0;
    if (cs.recursion_count < 1 || cs.recursion_count > 10000 || cs.lock_count == -1)
        return 0;
    uint64_t back;
    if (cs.debug_info && cs.debug_info != UINT64_MAX && cs.debug_info != 0xffffffffu) {
        unsigned ps = as->pointer_size == 4 ? 4 : 8;
        /* RTL_CRITICAL_SECTION_DEBUG: u16 Type, u16 CreatorBackTraceIndex, then the pointer. */
        if (dt_as_ptr(as, cs.debug_info + (ps == 8 ? 8 : 4), &back) && back == va)
            return 2;
    }
    return 1;
}

static void find_lock_for(dt_tmodel *m, dt_tthread *t)
{
    const dt_addrspace *as = m->user_memory;
    if (!as || t->nuf == 0 || !t->uf[0].has_sp)
        return;
    unsigned ps = as->pointer_size == 4 ? 4 : 8;
    uint64_t lo = t->uf[0].sp;
    uint64_t hi = lo + LOCK_SCAN_MAX_BYTES;
    /* Stop a little past the application frame that asked for the lock:
     * beyond it, pointers belong to other locks the thread already holds. */
    if (t->first_app_idx >= 0 && t->uf[t->first_app_idx].has_sp) {
        uint64_t app_sp = t->uf[t->first_app_idx].sp;
        if (app_sp > lo && app_sp + 0x40 < hi)
            hi = app_sp + 0x40;
    }
    int best = 0;
    for (uint64_t va = lo; va + ps <= hi; va += ps) {
        uint64_t p;
        if (!dt_as_ptr(as, va, &p))
            break;
        if (!p || (p & (ps - 1)))
            continue;
        int s = cs_score(m, t, p);
        if (s > best) {
            best = s;
            cs_fields cs;
            read_cs(as, p, &cs);
            t->lock_addr = p;
            t->lock_owner = cs.owner;
            t->has_lock = true;
            t->lock_strong = s == 2;
            if (s == 2)
                break;
        }
    }
}

void dt_triage_find_locks(dt_tmodel *m, cJSON *out_deadlocks)
{
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *t = &m->threads[i];
        if (t->blocking && t->blocking->category && strcmp(t->blocking->category, "critical_section") == 0)
            find_lock_for(m, t);
    }
    /* Each waiting thread has at most one out-edge (to its lock's owner), so
     * a cycle is found by following edges from each start at most count steps. */
    for (size_t i = 0; i < m->count; i++) {
        dt_tthread *start = &m->threads[i];
        if (!start->has_lock || start->in_deadlock)
            continue;
        const dt_tthread *cur = start;
        size_t steps = 0;
        while (cur && cur->has_lock && steps <= m->count) {
            cur = thread_by_tid(m, cur->lock_owner);
            steps++;
            if (cur == start)
                break;
        }
        if (cur != start)
            continue;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "kind", "critical_section");
        cJSON *tids = cJSON_AddArrayToObject(d, "threads");
        cJSON *locks = cJSON_AddArrayToObject(d, "locks");
        dt_tthread *x = start;
        for (size_t n = 0; n <= m->count; n++) {
            x->in_deadlock = true;
            cJSON_AddItemToArray(tids, cJSON_CreateNumber((double)x->tid));
            cJSON *l = cJSON_CreateObject();
            cJSON_AddNumberToObject(l, "thread_id", (double)x->tid);
            dt_json_add_hex(l, "waits_for", x->lock_addr);
            cJSON_AddNumberToObject(l, "owned_by", (double)x->lock_owner);
            cJSON_AddItemToArray(locks, l);
            x = (dt_tthread *)thread_by_tid(m, x->lock_owner);
            if (!x || x == start)
                break;
        }
        char desc[512];
        size_t len = (size_t)snprintf(desc, sizeof desc, "critical-section deadlock:");
        const cJSON *l;
        cJSON_ArrayForEach(l, locks)
        {
            uint64_t tid = 0, owner = 0;
            dt_json_u64(l, "thread_id", &tid);
            dt_json_u64(l, "owned_by", &owner);
            if (len < sizeof desc)
                len += (size_t)snprintf(desc + len, sizeof desc - len, " thread %" PRIu64 " waits for %s held by %" PRIu64 ";",
                                        tid, dt_json_get_str(l, "waits_for"), owner);
        }
        if (len && len < sizeof desc && desc[len - 1] == ';')
            desc[len - 1] = '\0';
        cJSON_AddStringToObject(d, "description", desc);
        cJSON_AddItemToArray(out_deadlocks, d);
    }
}
