/*
 * kernel_dump.c — opening a kernel dump into the neutral model: header,
 * kernel address space, KDBG, structure offsets and the driver list.
 * Threads are in kernel_threads.c; their stacks are walked above the model,
 * by unwind/kernel_stacks.h.
 *
 * For triage dumps the address space is the data blocks plus the copies
 * the triage header holds, placed at their kernel addresses so that every
 * later reader (threads, stack walker, symbol layer reading PE headers) uses
 * plain VAs (docs/formats.md C.3).  For full/bitmap dumps it is the page
 * tables at the header's DirectoryTableBase.
 */
#include "model/kernel_dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernel_dump_internal.h"

#define KDBG_READ_SIZE 0x400u
#define MAX_DRIVERS 4096u

static void add_view_region(dt_kernel_dump *kd, uint64_t va, dt_view v)
{
    if (va && v.size)
        dt_kmem_add_region(&kd->memory, va, v.data, v.size);
}

static uint64_t view_ptr(dt_view v, uint32_t off)
{
    uint64_t x = 0;
    if (off != DT_OFF_UNKNOWN)
        dt_view_u64(v, off, &x);
    return x;
}

static dt_status setup_triage(dt_kernel_dump *kd, dt_error *err)
{
    dt_status st = dt_kdump_triage_parse(kd->file, &kd->header, &kd->triage, &kd->warnings, err);
    if (st != DT_OK)
        return st;
    dt_kdump_triage *t = &kd->triage;
    if (t->has_kdbg) {
        kd->kdbg = t->kdbg;
        kd->has_kdbg = true;
    }
    dt_kmem_init_regions(&kd->memory, 8);
    for (size_t i = 0; i < t->block_count; i++)
        dt_kmem_add_region(&kd->memory, t->blocks[i].va, kd->file.data + t->blocks[i].file_offset,
                           t->blocks[i].size);
    add_view_region(kd, kd->header.kd_debugger_data_block, t->kdbg_copy);
    add_view_region(kd, t->top_of_stack, t->callstack);
    if (dt_kmem_seal(&kd->memory) != DT_OK)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    kd->as = dt_kmem_addrspace(&kd->memory);
    return DT_OK;
}

/* The PRCB/ETHREAD/EPROCESS copies at their VAs; needs offsets. */
static void place_triage_copies(dt_kernel_dump *kd)
{
    dt_kdump_triage *t = &kd->triage;
    const dt_kernel_offsets *o = &kd->offsets;
    uint64_t thread_va = view_ptr(t->prcb, o->prcb_current_thread);
    uint64_t process_va = view_ptr(t->ethread, o->kthread_apc_process);
    add_view_region(kd, thread_va, t->ethread);
    add_view_region(kd, process_va, t->eprocess);
    if (kd->has_kdbg && kd->kdbg.ki_processor_block && t->prcb.size && o->prcb_number != DT_OFF_UNKNOWN) {
        uint16_t n = 0;
        dt_view_u16(t->prcb, o->prcb_number, &n);
        uint64_t prcb_va = 0;
        if (dt_as_u64(&kd->as, kd->kdbg.ki_processor_block + 8 * (uint64_t)n, &prcb_va))
            add_view_region(kd, prcb_va, t->prcb);
    }
    dt_kmem_seal(&kd->memory);
}

static void setup_paged_kdbg(dt_kernel_dump *kd)
{
    uint64_t va = kd->header.kd_debugger_data_block;
    if (!va) {
        dt_warn(&kd->warnings, "header names no KdDebuggerDataBlock; using the header's list heads");
        return;
    }
    uint8_t buf[KDBG_READ_SIZE];
    size_t got = dt_as_read(&kd->as, va, buf, sizeof buf);
    if (got < 0x18) {
        dt_warn(&kd->warnings, "KdDebuggerDataBlock at 0x%llx is not in the dump", (unsigned long long)va);
        return;
    }
    dt_error kerr = { 0 };
    if (dt_kdbg_parse(dt_view_make(buf, got), &kd->kdbg, &kerr) == DT_OK) {
        kd->has_kdbg = true;
        return;
    }
    kd->kdbg_encoded = true;
    /* Win8+ x64 keeps the block encoded in memory (KdpDataBlockEncoded).
     * The dump header holds two of its fields in the clear, which is all
     * the decoding needs (formats/kdbg.h dt_kdbg_decode_known): no
     * KiWaitNever/KiWaitAlways, no symbols. */
    if (got >= 0x58 && dt_kdbg_decode_known(buf, got, kd->header.ps_loaded_module_list,
                                            kd->header.ps_active_process_head) &&
        dt_kdbg_parse(dt_view_make(buf, got), &kd->kdbg, &kerr) == DT_OK) {
        kd->has_kdbg = true;
        kd->kdbg_decoded = true;
        return;
    }
    dt_warn(&kd->warnings,
            "KDDEBUGGER_DATA64 at 0x%llx is encoded and does not decode with the header's list heads "
            "(no KiWaitNever/KiWaitAlways without symbols); using the header's list heads and the built-in "
            "offset table",
            (unsigned long long)va);
}

/* Tries each known layout of this machine on the dump's own data: the
 * triage ETHREAD copy, or the first process/thread of the process list. */
static bool validate_candidates(dt_kernel_dump *kd, uint64_t ethread, uint64_t eprocess_hint)
{
    dt_kernel_offsets cand;
    uint64_t head = kd->has_kdbg && kd->kdbg.ps_active_process_head ? kd->kdbg.ps_active_process_head
                                                                    : kd->header.ps_active_process_head;
    for (size_t i = 0; dt_kernel_offsets_candidate(kd->header.arch, i, &cand); i++) {
        dt_kernel_offsets merged = cand;
        if (kd->has_kdbg)
            dt_kernel_offsets_apply_kdbg(&merged, &kd->kdbg);
        uint64_t ep = eprocess_hint, et = ethread;
        if (!et && head) {
            uint64_t flink = 0, tflink = 0;
            if (!dt_as_u64(&kd->as, head, &flink) || flink == head)
                continue;
            ep = flink - merged.eprocess_active_process_links;
            if (!dt_as_u64(&kd->as, ep + merged.eprocess_thread_list_head, &tflink))
                continue;
            et = tflink - merged.ethread_thread_list_entry;
        }
        if (!ep && et && merged.kthread_apc_process != DT_OFF_UNKNOWN)
            dt_as_u64(&kd->as, et + merged.kthread_apc_process, &ep);
        if (dt_kernel_check_identity(&kd->as, &merged, et, ep)) {
            kd->offsets = merged;
            return true;
        }
    }
    return false;
}

static void resolve_offsets(dt_kernel_dump *kd, const dt_kernel_options *opts)
{
    dt_kernel_offsets *o = &kd->offsets;
    dt_kernel_offsets_init(o);
    bool in_table = dt_kernel_offsets_from_table(kd->header.build, kd->header.arch, o);
    if (kd->has_kdbg)
        dt_kernel_offsets_apply_kdbg(o, &kd->kdbg);
    size_t from_pdb = 0;
    if (opts && opts->field_offset)
        from_pdb = dt_kernel_offsets_apply_provider(o, opts->field_offset, opts->field_offset_ctx);
    if (in_table || from_pdb)
        return;
    /* Unknown build: look for a layout that fits this dump. */
    uint64_t ethread = 0, eprocess = 0;
    if (kd->is_triage) {
        uint32_t cur = o->prcb_current_thread != DT_OFF_UNKNOWN ? o->prcb_current_thread : 8;
        ethread = view_ptr(kd->triage.prcb, cur);
        /* Copies are placed after offsets are known; validate on the views
         * by mapping them temporarily. */
        if (ethread)
            dt_kmem_add_region(&kd->memory, ethread, kd->triage.ethread.data, kd->triage.ethread.size);
        if (o->kthread_apc_process != DT_OFF_UNKNOWN)
            eprocess = view_ptr(kd->triage.ethread, o->kthread_apc_process);
        if (eprocess)
            dt_kmem_add_region(&kd->memory, eprocess, kd->triage.eprocess.data, kd->triage.eprocess.size);
        dt_kmem_seal(&kd->memory);
    }
    if ((ethread || !kd->is_triage) && validate_candidates(kd, ethread, eprocess)) {
        dt_warn(&kd->warnings,
                "build %u (%s) is not in the offset table; the %s layout passed the checks on this dump and is used",
                kd->header.build, dt_cpu_arch_name(kd->header.arch), kd->offsets.table_name);
        return;
    }
    dt_warn(&kd->warnings,
            "build %u (%s) is not in the offset table and no known layout fits: process and thread ids, image "
            "names and wait details are unknown; stacks and processor contexts are still reported",
            kd->header.build, dt_cpu_arch_name(kd->header.arch));
}

static void read_unicode(const dt_addrspace *as, uint64_t ustr, unsigned ptr_size, char *out, size_t cap)
{
    out[0] = 0;
    uint8_t hdr[16];
    size_t hsz = ptr_size == 8 ? 16 : 8;
    if (!dt_as_read_exact(as, ustr, hdr, hsz))
        return;
    uint16_t len = (uint16_t)(hdr[0] | (hdr[1] << 8));
    uint64_t buf = ptr_size == 8 ? dt_le64(hdr + 8) : dt_le32(hdr + 4);
    if (len > 1024)
        len = 1024;
    uint8_t w[1024];
    size_t got = dt_as_read(as, buf, w, len);
    size_t o = 0;
    for (size_t i = 0; i + 1 < got && o + 1 < cap; i += 2) {
        uint16_t c = (uint16_t)(w[i] | (w[i + 1] << 8));
        if (!c)
            break;
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[o] = 0;
}

/* PsLoadedModuleList → LDR_DATA_TABLE_ENTRY (x64/ARM64 and x86 layouts). */
static void walk_loaded_modules(dt_kernel_dump *kd)
{
    uint64_t head = kd->has_kdbg && kd->kdbg.ps_loaded_module_list ? kd->kdbg.ps_loaded_module_list
                                                                   : kd->header.ps_loaded_module_list;
    if (!head)
        return;
    bool is64 = kd->header.is64;
    unsigned ps = is64 ? 8 : 4;
    uint32_t off_base = is64 ? 0x30 : 0x18, off_size = is64 ? 0x40 : 0x20;
    uint32_t off_full = is64 ? 0x48 : 0x24, off_ts = is64 ? 0x80 : 0x44, off_ck = is64 ? 0x78 : 0x40;
    uint64_t e = 0;
    if (!dt_as_ptr(&kd->as, head, &e)) {
        dt_warn(&kd->warnings, "PsLoadedModuleList (0x%llx) is not in the dump; no driver list",
                (unsigned long long)head);
        return;
    }
    size_t n = 0;
    while (e && e != head && n < MAX_DRIVERS) {
        uint64_t base = 0, size = 0;
        uint32_t ts = 0, ck = 0, sz32 = 0;
        if (!dt_as_ptr(&kd->as, e + off_base, &base) || !dt_as_u32(&kd->as, e + off_size, &sz32)) {
            dt_warn(&kd->warnings, "loaded-module list breaks at 0x%llx (entry not in the dump)",
                    (unsigned long long)e);
            break;
        }
        size = sz32;
        dt_as_u32(&kd->as, e + off_ts, &ts);
        dt_as_u32(&kd->as, e + off_ck, &ck);
        char name[512];
        read_unicode(&kd->as, e + off_full, ps, name, sizeof name);
        if (!name[0])
            snprintf(name, sizeof name, "driver_%llx", (unsigned long long)base);
        dt_module m = { 0 };
        m.base = base;
        m.size = size;
        m.time_date_stamp = ts;
        m.checksum = ck;
        m.path = strdup(name);
        if (m.path) {
            dt_module_set_code_file_from_path(&m);
            if (size)
                snprintf(m.code_id, sizeof m.code_id, "%08X%X", ts, (unsigned)size);
            if (!dt_module_list_add(&kd->drivers, &m)) {
                free(m.path);
                free(m.code_file);
            }
        }
        n++;
        uint64_t next = 0;
        if (!dt_as_ptr(&kd->as, e, &next))
            break;
        e = next;
    }
    if (n == MAX_DRIVERS)
        dt_warn(&kd->warnings, "loaded-module list stopped after %u entries (loop or corruption)", MAX_DRIVERS);
}

dt_status dt_kernel_dump_open(dt_view file, const dt_kernel_options *opts, dt_kernel_dump *kd, dt_error *err)
{
    memset(kd, 0, sizeof *kd);
    kd->file = file;
    if (opts)
        kd->options = *opts;
    dt_status st = dt_kdump_parse(file, &kd->header, &kd->warnings, err);
    if (st != DT_OK)
        return st;
    size_t max_threads = opts && opts->max_threads ? opts->max_threads : 4096;

    if (kd->header.dump_type == DT_KDUMP_TYPE_TRIAGE) {
        kd->is_triage = true;
        dt_error terr = { 0 };
        st = setup_triage(kd, &terr);
        if (st == DT_ERR_NOMEM)
            return dt_error_set(err, st, "%s", terr.message);
        if (st != DT_OK) {
            dt_warn(&kd->warnings, "triage data unusable: %s", terr.message);
            dt_kmem_init_regions(&kd->memory, kd->header.is64 ? 8 : 4);
            dt_kmem_seal(&kd->memory);
            kd->as = dt_kmem_addrspace(&kd->memory);
        }
    } else if (kd->header.phys_kind != DT_KDUMP_PHYS_NONE) {
        dt_error merr = { 0 };
        if (dt_kmem_init_paged(&kd->memory, &kd->header, file, kd->header.directory_table_base, &merr) != DT_OK)
            dt_warn(&kd->warnings, "%s", merr.message);
        kd->as = dt_kmem_addrspace(&kd->memory);
        setup_paged_kdbg(kd);
    } else {
        dt_kmem_init_regions(&kd->memory, kd->header.is64 ? 8 : 4);
        dt_kmem_seal(&kd->memory);
        kd->as = dt_kmem_addrspace(&kd->memory);
    }

    /* KUSER_SHARED_DATA.TickCount (+0x320) dates the threads' WaitTime. */
    uint64_t shared = kd->header.is64 ? UINT64_C(0xfffff78000000000) : UINT64_C(0xffdf0000);
    uint32_t ticks;
    kd->tick_count = dt_as_u32(&kd->as, shared + 0x320, &ticks) ? (int64_t)ticks : -1;
    /* TickCountMultiplier (+0x4): ms = ticks * multiplier >> 24. */
    uint32_t mult;
    kd->tick_ms = dt_as_u32(&kd->as, shared + 0x4, &mult) && mult ? (double)mult / 16777216.0 : 15.625;

    resolve_offsets(kd, opts);
    if (kd->is_triage) {
        place_triage_copies(kd);
        /* Take over the parsed driver list. */
        kd->drivers = kd->triage.drivers;
        memset(&kd->triage.drivers, 0, sizeof kd->triage.drivers);
        kd->unloaded = kd->triage.unloaded;
        kd->unloaded_count = kd->triage.unloaded_count;
        kd->triage.unloaded = NULL;
        kd->triage.unloaded_count = 0;
    } else if (kd->memory.kind == DT_KMEM_PAGED) {
        walk_loaded_modules(kd);
    }
    dt_module_list_sort(&kd->drivers);

    st = dt_kernel_collect_threads(kd, max_threads);
    if (st != DT_OK)
        return dt_error_set(err, st, "out of memory collecting threads");
    return DT_OK;
}

void dt_kernel_dump_close(dt_kernel_dump *kd)
{
    if (!kd)
        return;
    for (size_t i = 0; i < kd->thread_count; i++) {
        free(kd->threads[i].frames);
        free(kd->threads[i].irps);
    }
    free(kd->threads);
    free(kd->processes);
    free(kd->unloaded);
    dt_module_list_free(&kd->drivers);
    dt_kdump_triage_free(&kd->triage);
    dt_kmem_free(&kd->memory);
    dt_kdump_free(&kd->header);
    dt_warnings_free(&kd->warnings);
    memset(kd, 0, sizeof *kd);
}

const dt_kernel_thread *dt_kernel_dump_find_thread(const dt_kernel_dump *kd, uint64_t pid, uint64_t tid)
{
    for (size_t i = 0; i < kd->thread_count; i++) {
        const dt_kernel_thread *t = &kd->threads[i];
        if (t->has_cid && t->pid == pid && t->tid == tid)
            return t;
    }
    return NULL;
}

const char *dt_kernel_thread_state_name(int s)
{
    static const char *const names[] = { "Initialized", "Ready", "Running", "Standby", "Terminated",
                                         "Waiting", "Transition", "DeferredReady", "GateWaitObsolete",
                                         "WaitingForProcessInSwap" };
    return s >= 0 && s < (int)(sizeof names / sizeof names[0]) ? names[s] : NULL;
}

const char *dt_kernel_object_type_name(int t)
{
    /* KOBJECTS (ReactOS ndk ketypes.h / public symbols). */
    static const char *const names[] = { "NotificationEvent", "SynchronizationEvent", "Mutant", "Process", "Queue",
                                         "Semaphore", "Thread", "Gate", "NotificationTimer",
                                         "SynchronizationTimer" };
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : NULL;
}

const char *dt_kernel_wait_reason_name(int r)
{
    static const char *const names[] = {
        "Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution", "Suspended", "UserRequest",
        "WrExecutive", "WrFreePage", "WrPageIn", "WrPoolAllocation", "WrDelayExecution", "WrSuspended",
        "WrUserRequest", "WrSpare0", "WrQueue", "WrLpcReceive", "WrLpcReply", "WrVirtualMemory",
        "WrPageOut", "WrRendezvous", "WrKeyedEvent", "WrTerminated", "WrProcessInSwap", "WrCpuRateControl",
        "WrCalloutStack", "WrKernel", "WrResource", "WrPushLock", "WrMutex", "WrQuantumEnd", "WrDispatchInt",
        "WrPreempted", "WrYieldExecution", "WrFastMutex", "WrGuardedMutex", "WrRundown", "WrAlertByThreadId",
        "WrDeferredPreempt", "WrPhysicalFault", "WrIoRing", "WrMdlCache",
    };
    return r >= 0 && r < (int)(sizeof names / sizeof names[0]) ? names[r] : NULL;
}
