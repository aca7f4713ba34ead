/*
 * kernel_threads.c — finding the threads and processes of a kernel dump and
 * reading their identity, state, wait facts, stack bounds and the register
 * context an unwind starts from (docs/formats.md C.4–C.6).
 *
 * Every structure is read through the kernel address space at its VA, so
 * the same code serves triage copies, ETHREAD data blocks and page-table
 * backed full dumps.  A field whose offset is unknown, or whose bytes are
 * not in the dump, stays "unknown" (-1 / 0) instead of being guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernel_dump_internal.h"

#define ETHREAD_TYPE 6          /* DISPATCHER_HEADER.Type of a thread object */
#define MAX_PROCESSORS 1024u
#define MAX_PROCESSES 65536u

/* Open-addressing set of object addresses, so duplicate checks stay O(1)
 * however long a (hostile) list is. */
typedef struct {
    uint64_t *slots;
    size_t cap, n;
} addr_set;

/* True when va was not yet in the set (and is now). */
static bool set_add(addr_set *s, uint64_t va)
{
    if (!va)
        return false;
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return true; /* degrade: allow the duplicate rather than lose the object */
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i])
                continue;
            size_t h = (size_t)((s->slots[i] * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (ncap - 1);
            while (ns[h])
                h = (h + 1) & (ncap - 1);
            ns[h] = s->slots[i];
        }
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    size_t h = (size_t)((va * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (s->cap - 1);
    while (s->slots[h]) {
        if (s->slots[h] == va)
            return false;
        h = (h + 1) & (s->cap - 1);
    }
    s->slots[h] = va;
    s->n++;
    return true;
}

typedef struct {
    dt_kernel_dump *kd;
    size_t cap;
    size_t max;
    size_t pcap;
    addr_set seen_processes;
    addr_set seen_threads;
} collector;

static bool rd_u8(const dt_addrspace *as, uint64_t va, uint32_t off, uint8_t *out)
{
    return off != DT_OFF_UNKNOWN && dt_as_read_exact(as, va + off, out, 1);
}
static bool rd_u32(const dt_addrspace *as, uint64_t va, uint32_t off, uint32_t *out)
{
    return off != DT_OFF_UNKNOWN && dt_as_u32(as, va + off, out);
}
static bool rd_ptr(const dt_addrspace *as, uint64_t va, uint32_t off, uint64_t *out)
{
    return off != DT_OFF_UNKNOWN && dt_as_ptr(as, va + off, out);
}

static bool read_image_name(const dt_addrspace *as, uint64_t eprocess, uint32_t off, char out[16])
{
    out[0] = 0;
    uint8_t b[15];
    if (off == DT_OFF_UNKNOWN || !dt_as_read_exact(as, eprocess + off, b, sizeof b))
        return false;
    size_t n = 0;
    for (; n < sizeof b && b[n]; n++) {
        if (b[n] < 0x20 || b[n] >= 0x7f) {
            out[0] = 0;
            return false;
        }
        out[n] = (char)b[n];
    }
    out[n] = 0;
    return n > 0;
}

bool dt_kernel_check_identity(const dt_addrspace *as, const dt_kernel_offsets *o, uint64_t ethread,
                              uint64_t eprocess)
{
    uint64_t pid = 0, cpid = 0, tid = 0;
    char name[16];
    if (!ethread || !eprocess)
        return false;
    if (!rd_ptr(as, eprocess, o->eprocess_unique_process_id, &pid) || !rd_ptr(as, ethread, o->ethread_cid, &cpid) ||
        o->ethread_cid == DT_OFF_UNKNOWN || !dt_as_ptr(as, ethread + o->ethread_cid + as->pointer_size, &tid))
        return false;
    if (pid != cpid || pid % 4 || tid % 4 || tid == 0 || pid > 0xFFFFFFFFu || tid > 0xFFFFFFFFu)
        return false;
    return read_image_name(as, eprocess, o->eprocess_image_file_name, name);
}

static dt_kernel_thread *new_thread(collector *c)
{
    dt_kernel_dump *kd = c->kd;
    if (kd->thread_count >= c->max)
        return NULL;
    if (kd->thread_count == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        dt_kernel_thread *n = realloc(kd->threads, ncap * sizeof *n);
        if (!n)
            return NULL;
        kd->threads = n;
        c->cap = ncap;
    }
    dt_kernel_thread *t = &kd->threads[kd->thread_count++];
    memset(t, 0, sizeof *t);
    t->cpu = -1;
    t->state = t->wait_reason = t->wait_mode = t->alertable = -1;
    t->wait_time = t->wait_ticks = t->kernel_time = t->user_time = -1;
    return t;
}

static dt_kernel_thread *find_by_ethread(dt_kernel_dump *kd, uint64_t ethread)
{
    for (size_t i = 0; i < kd->thread_count; i++)
        if (kd->threads[i].ethread == ethread)
            return &kd->threads[i];
    return NULL;
}

/* KWAIT_BLOCK (x64/ARM64, Win8+): +0x10 WaitType, +0x12 WaitKey, +0x18
 * Thread, +0x20 Object, size 0x30; the blocks of one wait are an array of
 * WaitBlockCount entries (bounded by DT_KERNEL_MAX_WAIT_OBJECTS).  The
 * object's DISPATCHER_HEADER: Type +0, SignalState +4; KMUTANT.OwnerThread
 * +0x28; KSEMAPHORE.Limit +0x18.  A block whose Thread is not this thread is
 * not part of this wait (stale or foreign memory): the walk stops there.
 * Only followed for a Waiting thread with known offsets. */
static void read_wait_objects(dt_kernel_dump *kd, dt_kernel_thread *t)
{
    const dt_addrspace *as = &kd->as;
    const dt_kernel_offsets *o = &kd->offsets;
    if (t->state != 5 || !t->wait_block_list || as->pointer_size != 8)
        return;
    uint8_t count = 1;
    if (o->kthread_wait_block_count != DT_OFF_UNKNOWN)
        rd_u8(as, t->ethread, o->kthread_wait_block_count, &count);
    if (count == 0)
        count = 1;
    if (count > 64) /* MAXIMUM_WAIT_OBJECTS */
        dt_warn(&kd->warnings, "thread %llu: WaitBlockCount %u is not a valid wait (at most 64 objects); read the first %d blocks",
                (unsigned long long)t->tid, count, DT_KERNEL_MAX_WAIT_OBJECTS);
    else if (count > DT_KERNEL_MAX_WAIT_OBJECTS)
        dt_warn(&kd->warnings, "thread %llu: waits for %u objects; the first %d are reported",
                (unsigned long long)t->tid, count, DT_KERNEL_MAX_WAIT_OBJECTS);
    for (unsigned i = 0; i < count && t->wait_object_count < DT_KERNEL_MAX_WAIT_OBJECTS; i++) {
        uint64_t wb = t->wait_block_list + 0x30u * i, obj = 0, thread = 0;
        if (!dt_as_u64(as, wb + 0x20, &obj) || !obj)
            break;
        if (dt_as_u64(as, wb + 0x18, &thread) && thread && thread != t->ethread) {
            dt_warn(&kd->warnings, "thread %llu: wait block %u belongs to another thread (0x%llx); wait read up to it",
                    (unsigned long long)t->tid, i, (unsigned long long)thread);
            break;
        }
        dt_kernel_wait_object *w = &t->wait_objects[t->wait_object_count++];
        memset(w, 0, sizeof *w);
        w->object = obj;
        uint8_t b;
        uint16_t key;
        w->wait_type = dt_as_read_exact(as, wb + 0x10, &b, 1) ? b : -1;
        w->wait_key = dt_as_read_exact(as, wb + 0x12, &key, 2) ? key : -1;
        uint8_t type;
        w->type = dt_as_read_exact(as, obj, &type, 1) ? type : -1;
        uint32_t u;
        if (w->type >= 0 && dt_as_read_exact(as, obj + 4, &u, 4)) {
            w->has_signal_state = true;
            w->signal_state = (int32_t)u;
        }
        uint64_t tid;
        if (w->type == 2) {
            uint64_t owner = 0;
            if (dt_as_u64(as, obj + 0x28, &owner) && owner && o->ethread_cid != DT_OFF_UNKNOWN &&
                dt_as_u64(as, owner + o->ethread_cid + 8, &tid)) {
                w->has_owner = true;
                w->owner_ethread = owner;
                w->owner_tid = tid;
            }
        } else if (w->type == 5 && dt_as_read_exact(as, obj + 0x18, &u, 4)) {
            w->has_limit = true;
            w->limit = (int32_t)u;
        } else if (w->type == 6 && o->ethread_cid != DT_OFF_UNKNOWN && dt_as_u64(as, obj + o->ethread_cid + 8, &tid)) {
            w->has_target = true;
            w->target_tid = tid;
        } else if (w->type == 3 && o->eprocess_unique_process_id != DT_OFF_UNKNOWN &&
                   dt_as_u64(as, obj + o->eprocess_unique_process_id, &tid)) {
            w->has_target_pid = true;
            w->target_pid = tid;
        }
    }
}

/* Fills everything readable from the ETHREAD at va. */
static void read_thread(dt_kernel_dump *kd, dt_kernel_thread *t, uint64_t va)
{
    const dt_addrspace *as = &kd->as;
    const dt_kernel_offsets *o = &kd->offsets;
    t->ethread = va;
    uint64_t pid, tid;
    if (rd_ptr(as, va, o->ethread_cid, &pid) && dt_as_ptr(as, va + o->ethread_cid + as->pointer_size, &tid)) {
        t->has_cid = true;
        t->pid = pid;
        t->tid = tid;
    }
    uint8_t b;
    uint32_t u;
    if (rd_u8(as, va, o->kthread_state, &b))
        t->state = b;
    if (rd_u8(as, va, o->kthread_wait_reason, &b))
        t->wait_reason = b;
    if (rd_u8(as, va, o->kthread_wait_mode, &b))
        t->wait_mode = b;
    if (o->kthread_alertable_bit != DT_OFF_UNKNOWN && o->kthread_alertable_bit < 32 &&
        rd_u32(as, va, o->kthread_misc_flags, &u))
        t->alertable = (int)((u >> o->kthread_alertable_bit) & 1);
    if (rd_u32(as, va, o->kthread_wait_time, &u)) {
        t->wait_time = u;
        /* Only a waiting thread's WaitTime says how long it has waited. */
        if (kd->tick_count >= 0 && t->state == 5)
            t->wait_ticks = (int64_t)(uint32_t)((uint32_t)kd->tick_count - u);
    }
    if (rd_u32(as, va, o->kthread_kernel_time, &u))
        t->kernel_time = u;
    if (rd_u32(as, va, o->kthread_user_time, &u))
        t->user_time = u;
    rd_ptr(as, va, o->kthread_wait_block_list, &t->wait_block_list);
    rd_ptr(as, va, o->ethread_create_time, &t->create_time);
    rd_ptr(as, va, o->kthread_stack_base, &t->stack_base);
    rd_ptr(as, va, o->kthread_stack_limit, &t->stack_limit);
    rd_ptr(as, va, o->kthread_initial_stack, &t->initial_stack);
    rd_ptr(as, va, o->kthread_kernel_stack, &t->kernel_stack);
    rd_ptr(as, va, o->kthread_teb, &t->teb);
    rd_ptr(as, va, o->ethread_win32_start_address, &t->win32_start_address);
    if (rd_ptr(as, va, o->kthread_apc_process, &t->eprocess) && t->eprocess)
        read_image_name(as, t->eprocess, o->eprocess_image_file_name, t->image);
    read_wait_objects(kd, t);
}

static bool is_ethread(const dt_addrspace *as, uint64_t va)
{
    uint8_t type;
    return dt_as_read_exact(as, va, &type, 1) && type == ETHREAD_TYPE;
}

/* Register context for a switched-out thread from its saved KernelStack. */
static void switch_frame_context(dt_kernel_dump *kd, dt_kernel_thread *t)
{
    const dt_addrspace *as = &kd->as;
    uint64_t ks = t->kernel_stack;
    if (!ks)
        return;
    dt_cpu_context *c = &t->start;
    memset(c, 0, sizeof *c);
    c->arch = kd->header.arch;
    if (c->arch == DT_ARCH_AMD64) {
        /* KSWITCH_FRAME: +0x30 Rbp, +0x38 return address (size 0x40). */
        uint64_t rip, rbp;
        if (!dt_as_u64(as, ks + 0x38, &rip))
            return;
        dt_ctx_set(c, DT_AMD64_RIP, rip);
        dt_ctx_set(c, DT_AMD64_RSP, ks + 0x40);
        if (dt_as_u64(as, ks + 0x30, &rbp))
            dt_ctx_set(c, DT_AMD64_RBP, rbp);
    } else if (c->arch == DT_ARCH_ARM64) {
        /* [I, V data on TA] the switch frame holds an FP/LR pair at +0x50. */
        uint64_t fp, lr;
        if (!dt_as_u64(as, ks + 0x50, &fp) || !dt_as_u64(as, ks + 0x58, &lr))
            return;
        dt_ctx_set(c, DT_ARM64_FP, fp);
        dt_ctx_set(c, DT_ARM64_LR, lr);
        dt_ctx_set(c, DT_ARM64_PC, lr);
        dt_ctx_set(c, DT_ARM64_SP, ks + 0x60);
    } else {
        return;
    }
    t->has_start = true;
    t->start_source = "switch_frame";
}

static bool context_at(dt_kernel_dump *kd, uint64_t va, dt_cpu_context *out)
{
    uint8_t buf[DT_CONTEXT_AMD64_SIZE];
    size_t need = kd->header.arch == DT_ARCH_AMD64   ? DT_CONTEXT_AMD64_SIZE
                  : kd->header.arch == DT_ARCH_ARM64 ? DT_CONTEXT_ARM64_SIZE
                                                     : DT_CONTEXT_X86_SIZE;
    size_t got = dt_as_read(&kd->as, va, buf, need);
    if (got < need && !(kd->header.arch == DT_ARCH_AMD64 && got >= 0x100))
        return false;
    return dt_cpu_context_parse(kd->header.arch, dt_view_make(buf, got), out, NULL) == DT_OK;
}

/* The CONTEXT the -mk writer captured with RtlCaptureContext inside
 * DbgkpLkmdSnapThreadInContext: a local of that routine, so it lies on the
 * thread's own stack at or above the Rsp it records, and it was saved as a
 * data block of its own (docs/kernel.md "The captured CONTEXT" gives the
 * test).  x64 only: the ARM64 writer has not been read. */
bool dt_kernel_find_captured_context(dt_kernel_dump *kd, dt_kernel_thread *t)
{
    const dt_addrspace *as = &kd->as;
    if (!kd->is_triage || kd->header.arch != DT_ARCH_AMD64 || !t->stack_base || !t->stack_limit ||
        t->stack_limit >= t->stack_base || t->stack_base - t->stack_limit > UINT64_C(0x100000))
        return false;
    for (size_t i = 0; i < kd->triage.block_count; i++) {
        const dt_triage_block *b = &kd->triage.blocks[i];
        if (b->size != DT_CONTEXT_AMD64_SIZE || b->va % 16 || b->va < t->stack_limit ||
            b->va > t->stack_base - DT_CONTEXT_AMD64_SIZE)
            continue;
        dt_view v;
        if (!dt_view_sub(kd->file, b->file_offset, b->size, &v))
            continue;
        uint32_t flags = 0;
        uint64_t rip = 0, rsp = 0;
        if (!dt_view_u32(v, 0x30, &flags) || !dt_view_u64(v, 0xf8, &rip) || !dt_view_u64(v, 0x98, &rsp))
            continue;
        if ((flags & 0x100001u) != 0x100001u)
            continue;
        const dt_module *m = dt_module_list_find(&kd->drivers, rip);
        if (!m || !dt_module_is_kernel_image(m->path ? m->path : m->code_file))
            continue;
        uint64_t word;
        if (rsp % 8 || rsp < t->stack_limit || rsp > b->va || !dt_as_u64(as, rsp, &word)) {
            dt_warn(&kd->warnings,
                    "thread %llu: the captured CONTEXT at 0x%llx says Rsp 0x%llx, which is not on the thread's "
                    "snapped stack below the CONTEXT; not used",
                    (unsigned long long)t->tid, (unsigned long long)b->va, (unsigned long long)rsp);
            t->start_note = "captured CONTEXT rejected: its Rsp is not on the snapped stack below it";
            continue;
        }
        dt_cpu_context c;
        if (dt_cpu_context_parse(DT_ARCH_AMD64, v, &c, NULL) != DT_OK)
            continue;
        t->start = c;
        t->has_start = true;
        t->start_source = "captured_context";
        t->start_context = b->va;
        t->start_note = NULL;
        return true;
    }
    return false;
}

static void add_processor_threads(collector *c)
{
    dt_kernel_dump *kd = c->kd;
    const dt_kernel_offsets *o = &kd->offsets;
    if (!kd->has_kdbg || !kd->kdbg.ki_processor_block)
        return;
    uint32_t ncpu = kd->header.processors ? kd->header.processors : 64;
    if (ncpu > MAX_PROCESSORS)
        ncpu = MAX_PROCESSORS;
    for (uint32_t i = 0; i < ncpu; i++) {
        uint64_t prcb = 0, cur = 0, idle = 0, ctxp = 0;
        if (!dt_as_ptr(&kd->as, kd->kdbg.ki_processor_block + (uint64_t)i * kd->as.pointer_size, &prcb) || !prcb)
            continue;
        if (!rd_ptr(&kd->as, prcb, o->prcb_current_thread, &cur) || !cur)
            continue;
        rd_ptr(&kd->as, prcb, o->prcb_idle_thread, &idle);
        dt_kernel_thread *t = find_by_ethread(kd, cur);
        if (!t && cur == idle)
            continue; /* an idle processor is not a thread anyone waits on */
        if (!t) {
            t = new_thread(c);
            if (!t)
                return;
            t->ethread = cur;
            t->origin = "processor";
            if (is_ethread(&kd->as, cur))
                read_thread(kd, t, cur);
            t->ethread = cur;
        }
        t->cpu = (int)i;
        snprintf(t->label, sizeof t->label, "cpu%u running thread", i);
        if (rd_ptr(&kd->as, prcb, o->prcb_context, &ctxp) && ctxp && context_at(kd, ctxp, &t->start)) {
            t->has_start = true;
            t->start_source = "prcb_context";
            t->start_context = ctxp;
        }
    }
}

static void add_process(collector *c, uint64_t ep)
{
    dt_kernel_dump *kd = c->kd;
    const dt_kernel_offsets *o = &kd->offsets;
    uint64_t pid;
    /* An EPROCESS the dump does not hold is not a process we can show. */
    if (!rd_ptr(&kd->as, ep, o->eprocess_unique_process_id, &pid) || !set_add(&c->seen_processes, ep))
        return;
    if (kd->process_count == c->pcap) {
        size_t ncap = c->pcap ? c->pcap * 2 : 16;
        dt_kernel_process *n = realloc(kd->processes, ncap * sizeof *n);
        if (!n)
            return;
        kd->processes = n;
        c->pcap = ncap;
    }
    dt_kernel_process *p = &kd->processes[kd->process_count++];
    memset(p, 0, sizeof *p);
    p->eprocess = ep;
    rd_ptr(&kd->as, ep, o->eprocess_unique_process_id, &p->pid);
    read_image_name(&kd->as, ep, o->eprocess_image_file_name, p->image);
    rd_ptr(&kd->as, ep, o->eprocess_create_time, &p->create_time);
    rd_ptr(&kd->as, ep, o->eprocess_directory_table_base, &p->directory_table_base);
    rd_ptr(&kd->as, ep, o->eprocess_peb, &p->peb);
    if (kd->has_kdbg && kd->kdbg.eprocess_parent_cid)
        rd_ptr(&kd->as, ep, kd->kdbg.eprocess_parent_cid, &p->parent_pid);
}

static void walk_process_list(collector *c)
{
    dt_kernel_dump *kd = c->kd;
    const dt_kernel_offsets *o = &kd->offsets;
    uint64_t head = kd->has_kdbg && kd->kdbg.ps_active_process_head ? kd->kdbg.ps_active_process_head
                                                                    : kd->header.ps_active_process_head;
    if (!head || o->eprocess_active_process_links == DT_OFF_UNKNOWN)
        return;
    uint64_t e = 0;
    if (!dt_as_ptr(&kd->as, head, &e)) {
        dt_warn(&kd->warnings, "PsActiveProcessHead (0x%llx) is not in the dump; no process list",
                (unsigned long long)head);
        return;
    }
    size_t n = 0;
    unsigned ps = kd->as.pointer_size;
    uint64_t prev = head;
    while (e && e != head && n < MAX_PROCESSES) {
        /* A consistent list has entry.Blink == previous entry; checking it
         * makes a revisit (a loop in a damaged or hostile dump) impossible. */
        uint64_t blink = 0;
        if (!dt_as_ptr(&kd->as, e + ps, &blink) || blink != prev) {
            dt_warn(&kd->warnings, "process list is inconsistent at 0x%llx after %zu processes; stopped",
                    (unsigned long long)e, n);
            break;
        }
        uint64_t ep = e - o->eprocess_active_process_links;
        add_process(c, ep);
        n++;
        if (o->eprocess_thread_list_head != DT_OFF_UNKNOWN && o->ethread_thread_list_entry != DT_OFF_UNKNOWN) {
            uint64_t th = ep + o->eprocess_thread_list_head, te = 0, tprev = th;
            if (dt_as_ptr(&kd->as, th, &te)) {
                while (te && te != th) {
                    uint64_t tb = 0;
                    if (!dt_as_ptr(&kd->as, te + ps, &tb) || tb != tprev) {
                        dt_warn(&kd->warnings, "thread list of process 0x%llx is inconsistent; stopped",
                                (unsigned long long)ep);
                        break;
                    }
                    uint64_t et = te - o->ethread_thread_list_entry;
                    if (set_add(&c->seen_threads, et)) {
                        dt_kernel_thread *t = new_thread(c);
                        if (!t)
                            break;
                        t->origin = "process_list";
                        read_thread(kd, t, et);
                    }
                    tprev = te;
                    if (!dt_as_ptr(&kd->as, te, &te))
                        break;
                }
            }
        }
        if (kd->thread_count >= c->max)
            break;
        prev = e;
        if (!dt_as_ptr(&kd->as, e, &e)) {
            dt_warn(&kd->warnings, "process list breaks after %zu processes (entry not in the dump)", n);
            break;
        }
    }
}

dt_status dt_kernel_collect_threads(dt_kernel_dump *kd, size_t max_threads)
{
    collector c = { kd, 0, max_threads, 0, { NULL, 0, 0 }, { NULL, 0, 0 } };
    const dt_kernel_offsets *o = &kd->offsets;
    if (kd->is_triage) {
        uint64_t cur = 0;
        if (o->prcb_current_thread != DT_OFF_UNKNOWN)
            dt_view_u64(kd->triage.prcb, o->prcb_current_thread, &cur);
        if (cur && kd->triage.ethread.size) {
            dt_kernel_thread *t = new_thread(&c);
            if (!t)
                return DT_ERR_NOMEM;
            read_thread(kd, t, cur);
            set_add(&c.seen_threads, cur);
            t->origin = "current_thread";
            t->is_current = true;
        }
        /* ETHREADs stored whole as data blocks (procdump -mk, live dumps). */
        uint32_t size_ethread = o->size_ethread != DT_OFF_UNKNOWN ? o->size_ethread : 0;
        for (size_t i = 0; size_ethread && i < kd->triage.block_count; i++) {
            const dt_triage_block *b = &kd->triage.blocks[i];
            if (b->size != size_ethread || kd->file.data[b->file_offset] != ETHREAD_TYPE)
                continue;
            if (!set_add(&c.seen_threads, b->va))
                continue;
            dt_kernel_thread *t = new_thread(&c);
            if (!t)
                break;
            read_thread(kd, t, b->va);
            t->origin = "data_block";
        }
    } else if (kd->memory.kind == DT_KMEM_PAGED) {
        walk_process_list(&c);
    }
    add_processor_threads(&c);

    for (size_t i = 0; i < kd->thread_count; i++) {
        dt_kernel_thread *t = &kd->threads[i];
        if (t->eprocess)
            add_process(&c, t->eprocess);
        /* A -mk thread snapped in its own context: its KernelStack is stale
         * (the thread ran the snapshot APC since it last switched), the
         * captured CONTEXT is not. */
        if (!t->has_start && t->cpu < 0)
            dt_kernel_find_captured_context(kd, t);
        if (!t->has_start && t->cpu < 0)
            switch_frame_context(kd, t);
        if (!t->has_start && t->is_current && kd->header.context_record.size) {
            if (dt_cpu_context_parse(kd->header.arch, kd->header.context_record, &t->start, NULL) == DT_OK) {
                t->has_start = true;
                t->start_source = "header_context";
            }
        }
    }
    for (size_t p = 0; p < kd->process_count; p++) {
        for (size_t i = 0; i < kd->thread_count; i++) {
            dt_kernel_thread *t = &kd->threads[i];
            if (t->eprocess == kd->processes[p].eprocess)
                kd->processes[p].thread_count++;
            /* A thread whose EPROCESS is absent still has its pid. */
            else if (!t->image[0] && t->has_cid && t->pid == kd->processes[p].pid)
                memcpy(t->image, kd->processes[p].image, sizeof t->image);
        }
    }
    if (kd->thread_count >= max_threads)
        dt_warn(&kd->warnings, "thread list cut at %zu threads", max_threads);
    dt_kernel_collect_irps(kd);
    dt_kernel_collect_alpc(kd);
    free(c.seen_processes.slots);
    free(c.seen_threads.slots);
    return DT_OK;
}
