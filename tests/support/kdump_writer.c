/*
 * kdump_writer.c — TEST-ONLY synthetic kernel dumps (see kdump_writer.h).
 *
 * One model, three outputs: the objects (KDBG, list heads, EPROCESS,
 * ETHREAD, stacks, PRCBs, CONTEXTs, LDR entries) are first written into a
 * sparse virtual-memory image; a triage dump then stores selected VA ranges
 * as data blocks, while full/bitmap dumps place every page in physical
 * memory behind freshly built x64 page tables.
 */
#include "kdump_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 0x1000u
#define POOL_1G UINT64_C(0xffffc08b00000000)
#define STACKS_2M UINT64_C(0xffff850400000000)
#define PROC_VA(p) (POOL_1G + 0x10000000u + (uint64_t)(p) * 0x1000u)
#define THREAD_VA(p, t) (POOL_1G + 0x20000000u + ((uint64_t)(p) * 64u + (t)) * 0x1000u)
#define IDLE_VA(i) (POOL_1G + 0x28000000u + (uint64_t)(i) * 0x1000u)
#define PRCB_VA(i) (POOL_1G + 0x30000000u + (uint64_t)(i) * 0x10000u)
#define CTX_VA(i) (POOL_1G + 0x38000000u + (uint64_t)(i) * 0x1000u)
#define LDR_VA (POOL_1G + 0x100000u)
#define OBJ_VA(p, t) (POOL_1G + 0x2c000000u + ((uint64_t)(p) * 64u + (t)) * 0x100u)
/* One 4 KiB page of I/O objects per IRP: 8 threads × 16 IRPs per process. */
#define IRP_PAGE(p, t, i) (POOL_1G + 0x2e000000u + (((uint64_t)(p) * 8u + (t)) * 16u + (i)) * 0x1000u)
/* Two pages of ALPC objects per dt_kw_alpc entry. */
#define ALPC_PAGE(i) (POOL_1G + 0x2d000000u + (uint64_t)(i) * 0x2000u)
#define ABSENT_VA UINT64_C(0xffffc08bdead0000)
#define ACTIVE_HEAD (DT_KW_NT_BASE + 0xc1e200u)
#define MODULE_HEAD (DT_KW_NT_BASE + 0xc2a390u)
#define KIPB_VA (DT_KW_NT_BASE + 0xcfdc80u)

/* 19041 x64 layout (docs/kernel_offsets.md). */
enum {
    SIZE_EPROCESS = 0xa40, SIZE_ETHREAD = 0x898, SIZE_PRCB = 0xaf00, PRCB_CONTEXT = 0x85c0,
    KT_STATE = 0x184, KT_WREASON = 0x283, KT_WMODE = 0x187, KT_MISC = 0x74, KT_WTIME = 0x1b4,
    KT_KTIME = 0x28c, KT_UTIME = 0x2dc, KT_PROCESS = 0xb8, KT_INIT = 0x28, KT_LIMIT = 0x30, KT_BASE = 0x38,
    KT_KSTACK = 0x58, KT_WBLOCK = 0xd0, KT_WBLOCK_COUNT = 0x24b, KT_WAITBLOCK0 = 0x140,
};
static const dt_kw_structs structs_19041 = {
    .ep_pid = 0x440, .ep_links = 0x448, .ep_image = 0x5a8, .ep_threads = 0x5e0, .ep_create = 0x468, .ep_peb = 0x550,
    .et_cid = 0x478, .et_link = 0x4e8, .et_start = 0x4d0, .et_create = 0x430, .et_irp_list = 0x4b0,
    .et_alpc_id = 0x528, .et_alpc_msg = 0x530, .et_alpc_wait = 0x538,
};
/* The EPROCESS/ETHREAD offsets in use (dt_kw_system.structs), through the
 * vmem every writer function gets. */
#define EP_PID (m->st->ep_pid)
#define EP_LINKS (m->st->ep_links)
#define EP_IMAGE (m->st->ep_image)
#define EP_THREADS (m->st->ep_threads)
#define EP_CREATE (m->st->ep_create)
#define ET_CID (m->st->et_cid)
#define ET_LINK (m->st->et_link)
#define ET_START (m->st->et_start)
#define ET_CREATE (m->st->et_create)
#define ET_IRP_LIST (m->st->et_irp_list)
#define ET_ALPC_ID (m->st->et_alpc_id)
#define ET_ALPC_MSG (m->st->et_alpc_msg)
#define ET_ALPC_WAIT (m->st->et_alpc_wait)

/* ALPC objects inside one ALPC_PAGE (docs/kernel_offsets.md "ALPC"): object
 * bodies, each with its header 0x30 and name info 0x50 before it. */
enum {
    AP_MSG = 0x000, AP_ROOT = 0x200, AP_RPCDIR = 0x300, AP_CONN = 0x400, AP_COMM_PORT = 0x700,
    AP_COMM_INFO = 0x900, AP_NOT_PROCESS = 0x980, AP_BROKEN = 0x9c0, AP_NAMES = 0xa00,
};

/* I/O objects (wdm.h x64 layouts, docs/kernel_offsets.md "I/O objects"). */
enum {
    IRP_SIZE = 0xd0, IOSL_SIZE = 0x48, FILE_SIZE = 0xd8, DEVICE_SIZE = 0x150, DRIVER_SIZE = 0x150,
    /* offsets of the objects inside one IRP page */
    PG_FILE = 0x200, PG_FILE_NAME = 0x300, PG_DEVICE = 0x400, PG_DRIVER = 0x600, PG_DRIVER_NAME = 0x780,
    PG_FDEVICE = 0x800, PG_FDRIVER = 0xa00, PG_FDRIVER_NAME = 0xb80,
};

/* ---- sparse virtual memory ---- */

typedef struct {
    uint64_t va;
    uint8_t *data;
} vpage;

typedef struct {
    vpage *pages;
    size_t n, cap;
    uint64_t (*ranges)[2]; /* triage data blocks: va, len */
    size_t nr, rcap;
    bool oom;
    const dt_kw_structs *st;
} vmem;

static uint8_t *vpage_get(vmem *m, uint64_t va)
{
    uint64_t pva = va & ~(uint64_t)(PAGE - 1);
    for (size_t i = m->n; i-- > 0;)
        if (m->pages[i].va == pva)
            return m->pages[i].data;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        vpage *np = realloc(m->pages, nc * sizeof *np);
        if (!np) {
            m->oom = true;
            return NULL;
        }
        m->pages = np;
        m->cap = nc;
    }
    uint8_t *d = calloc(1, PAGE);
    if (!d) {
        m->oom = true;
        return NULL;
    }
    m->pages[m->n].va = pva;
    m->pages[m->n].data = d;
    m->n++;
    return d;
}

static void vput(vmem *m, uint64_t va, const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len) {
        uint8_t *p = vpage_get(m, va);
        if (!p)
            return;
        size_t off = va & (PAGE - 1), n = PAGE - off;
        if (n > len)
            n = len;
        memcpy(p + off, s, n);
        va += n;
        s += n;
        len -= n;
    }
}

static void vzero(vmem *m, uint64_t va, size_t len)
{
    for (uint64_t a = va & ~(uint64_t)(PAGE - 1); a < va + len; a += PAGE)
        vpage_get(m, a);
}

static void vget(vmem *m, uint64_t va, void *dst, size_t len)
{
    uint8_t *d = dst;
    while (len) {
        uint8_t *p = vpage_get(m, va);
        size_t off = va & (PAGE - 1), n = PAGE - off;
        if (n > len)
            n = len;
        if (p)
            memcpy(d, p + off, n);
        else
            memset(d, 0, n);
        va += n;
        d += n;
        len -= n;
    }
}

static void v64(vmem *m, uint64_t va, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    vput(m, va, b, 8);
}
static void v32(vmem *m, uint64_t va, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    vput(m, va, b, 4);
}
static void v16(vmem *m, uint64_t va, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    vput(m, va, b, 2);
}
static void v8(vmem *m, uint64_t va, uint8_t v) { vput(m, va, &v, 1); }

static void region(vmem *m, uint64_t va, uint64_t len)
{
    vzero(m, va, len);
    if (m->nr == m->rcap) {
        size_t nc = m->rcap ? m->rcap * 2 : 32;
        void *np = realloc(m->ranges, nc * sizeof *m->ranges);
        if (!np) {
            m->oom = true;
            return;
        }
        m->ranges = np;
        m->rcap = nc;
    }
    m->ranges[m->nr][0] = va;
    m->ranges[m->nr][1] = len;
    m->nr++;
}

static void vmem_free(vmem *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->pages[i].data);
    free(m->pages);
    free(m->ranges);
}

/* ---- the model ---- */

uint64_t dt_kw_thread_va(size_t p, size_t t) { return THREAD_VA(p, t); }
uint64_t dt_kw_irp_va(size_t p, size_t t, size_t i) { return IRP_PAGE(p, t, i); }
uint64_t dt_kw_irp_file_va(size_t p, size_t t, size_t i) { return IRP_PAGE(p, t, i) + PG_FILE; }
uint64_t dt_kw_irp_device_va(size_t p, size_t t, size_t i) { return IRP_PAGE(p, t, i) + PG_DEVICE; }
uint64_t dt_kw_irp_driver_va(size_t p, size_t t, size_t i) { return IRP_PAGE(p, t, i) + PG_DRIVER; }
uint64_t dt_kw_wait_object_va(size_t p, size_t t) { return OBJ_VA(p, t); }
uint64_t dt_kw_process_va(size_t p) { return PROC_VA(p); }
/* 8 stacks per process, 32 KiB apart: the first 7 processes fit one 2 MiB page. */
uint64_t dt_kw_stack_base(size_t p, size_t t) { return STACKS_2M + ((uint64_t)p * 8u + t + 1) * 0x8000u; }

static uint64_t thread_sp(size_t p, size_t t) { return dt_kw_stack_base(p, t) - 0x800; }
/* DbgkpLkmdSnapThreadInContext's frame: its Rsp, and the CONTEXT local
 * 0x40 above it, ending below the return address into KiDeliverApc. */
uint64_t dt_kw_captured_rsp(size_t p, size_t t) { return thread_sp(p, t) - 0x540; }
uint64_t dt_kw_captured_context_va(size_t p, size_t t) { return dt_kw_captured_rsp(p, t) + 0x40; }

static void list_link(vmem *m, uint64_t head, const uint64_t *entries, size_t n)
{
    uint64_t prev = head;
    for (size_t i = 0; i < n; i++) {
        v64(m, prev, entries[i]);      /* prev.Flink */
        v64(m, entries[i] + 8, prev);  /* Blink */
        prev = entries[i];
    }
    v64(m, prev, head);
    v64(m, head + 8, prev);
}

static void unicode_string(vmem *m, uint64_t us, uint64_t buf, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        v16(m, buf + 2 * i, (uint16_t)(unsigned char)s[i]);
    v16(m, us, (uint16_t)(2 * n));
    v16(m, us + 2, (uint16_t)(2 * n + 2));
    v64(m, us + 8, buf);
}

static void write_kdbg(vmem *m, unsigned ncpu)
{
    uint64_t k = DT_KW_KDBG_VA;
    region(m, k, 0x380);
    v32(m, k + 0x10, 0x4742444B);
    v32(m, k + 0x14, 0x380);
    v64(m, k + 0x18, DT_KW_NT_BASE);
    v64(m, k + 0x48, MODULE_HEAD);
    v64(m, k + 0x50, ACTIVE_HEAD);
    v64(m, k + 0x218, KIPB_VA);
    static const struct { uint16_t off, val; } f16[] = {
        { 0x298, 0x218 }, { 0x29a, 0xf0 }, { 0x29c, KT_KSTACK }, { 0x29e, KT_INIT }, { 0x2a0, KT_PROCESS },
        { 0x2a2, KT_STATE }, { 0x2a8, SIZE_EPROCESS }, { 0x2ac, 0x540 }, { 0x2ae, 0x28 },
        { 0x2b0, SIZE_PRCB }, { 0x2b4, 0x8 }, { 0x2bc, 0x1f0 }, { 0x2be, 0x24 }, { 0x2c0, SIZE_ETHREAD },
        { 0x338, PRCB_CONTEXT }, { 0x350, 0x18 }, { 0x35c, KT_WREASON },
    };
    for (size_t i = 0; i < sizeof f16 / sizeof f16[0]; i++)
        v16(m, k + f16[i].off, f16[i].val);
    v16(m, k + 0x2aa, (uint16_t)m->st->ep_peb); /* EPROCESS.Peb */
    v32(m, k + 0x340, KT_LIMIT);
    v32(m, k + 0x344, KT_BASE);
    v64(m, k + 0x360, UINT64_C(0xfffffd8000000000));
    region(m, KIPB_VA, 8u * ncpu);
}

static void write_context(vmem *m, uint64_t va, uint64_t rip, uint64_t rsp, uint64_t rbp)
{
    region(m, va, 0x4d0);
    v32(m, va + 0x30, 0x10001f);
    v64(m, va + 0x98, rsp);
    v64(m, va + 0xa0, rbp);
    v64(m, va + 0xf8, rip);
}

/* The CONTEXT RtlCaptureContext saved inside DbgkpLkmdSnapThreadInContext
 * (docs/formats.md part D, the captured CONTEXT): Rip in that routine (frames[0]), Rsp its frame,
 * saved as a data block of its own on the thread's stack. */
static void write_captured_context(vmem *m, const dt_kw_thread *th, size_t p, size_t t)
{
    uint64_t rsp = dt_kw_captured_rsp(p, t);
    if (th->context_lies)
        rsp = dt_kw_stack_base(p, t) + 0x10000; /* off the thread's stack */
    write_context(m, dt_kw_captured_context_va(p, t), th->frame_count ? th->frames[0] : 0, rsp, rsp + 0x80);
}

static void put_name(vmem *m, uint64_t us, uint64_t buf, const char *name, bool save_buffer)
{
    unicode_string(m, us, buf, name);
    if (save_buffer && *name)
        region(m, buf, 2 * strlen(name));
}

/* ETHREAD.IrpList and what DbgkpLkmdSnapPendingIrps saves for each IRP
 * (docs/formats.md part D, pending IRPs); objects the kernel's writer does not save (the
 * filter device above the holder) are written to memory only. */
static void write_irps(vmem *m, uint64_t et, const dt_kw_thread *th, size_t p, size_t t)
{
    uint64_t entries[4];
    size_t n = th->irp_count < 4 ? th->irp_count : 4;
    for (size_t i = 0; i < n; i++) {
        const dt_kw_irp *q = &th->irps[i];
        uint64_t pg = IRP_PAGE(p, t, i), irp = pg, file = pg + PG_FILE, dev = pg + PG_DEVICE, drv = pg + PG_DRIVER;
        uint8_t stack_count = q->filter_driver_name ? 2 : 1;
        uint16_t size = (uint16_t)(IRP_SIZE + stack_count * IOSL_SIZE);
        region(m, irp, size);
        v16(m, irp, q->fault == DT_KW_IRP_NOT_AN_IRP ? 9 : 6);
        v16(m, irp + 2, size);
        v32(m, irp + 0x10, 0x904);               /* SYNCHRONOUS_API | READ_OPERATION | DEFER_IO_COMPLETION */
        v8(m, irp + 0x40, 1);                    /* RequestorMode UserMode */
        v8(m, irp + 0x41, 1);                    /* PendingReturned */
        v8(m, irp + 0x42, stack_count);
        v8(m, irp + 0x43, 1);                    /* CurrentLocation: the holder */
        v8(m, irp + 0x44, q->cancel);
        v64(m, irp + 0x98, et);                  /* Tail.Overlay.Thread */
        v64(m, irp + 0xb8, irp + IRP_SIZE);      /* CurrentStackLocation = location 1 */
        v64(m, irp + 0xc0, file);                /* OriginalFileObject */
        for (uint8_t loc = 1; loc <= stack_count; loc++) {
            uint64_t sl = irp + IRP_SIZE + (uint64_t)(loc - 1) * IOSL_SIZE;
            v8(m, sl, q->major);
            v8(m, sl + 1, q->minor);
            v32(m, sl + 0x08, q->length);
            v32(m, sl + 0x18, q->code);
            v64(m, sl + 0x28, loc == 1 ? dev : pg + PG_FDEVICE);
            v64(m, sl + 0x30, file);
        }
        region(m, irp + IRP_SIZE, IOSL_SIZE);    /* the current stack location, saved on its own */
        region(m, file, FILE_SIZE);
        v16(m, file, q->fault == DT_KW_IRP_FILE_MISTYPED ? 7 : 5);
        v16(m, file + 2, FILE_SIZE);
        v64(m, file + 0x08, dev);
        put_name(m, file + 0x58, pg + PG_FILE_NAME, q->file_name ? q->file_name : "", true);
        if (q->fault == DT_KW_IRP_NAME_PAST_BUFFER)
            v16(m, file + 0x58, 0x400);
        region(m, dev, DEVICE_SIZE);
        v16(m, dev, 3);
        v16(m, dev + 2, DEVICE_SIZE);
        v64(m, dev + 0x08, q->fault == DT_KW_IRP_DRIVER_ABSENT ? ABSENT_VA : drv);
        v32(m, dev + 0x48, q->device_type);
        if (q->filter_driver_name)
            v64(m, dev + 0x18, pg + PG_FDEVICE); /* AttachedDevice: the filter above */
        region(m, drv, DRIVER_SIZE);
        v16(m, drv, 4);
        v16(m, drv + 2, DRIVER_SIZE);
        v64(m, drv + 0x08, dev);
        v64(m, drv + 0x18, q->driver_start);
        put_name(m, drv + 0x38, pg + PG_DRIVER_NAME, q->driver_name ? q->driver_name : "", true);
        if (q->filter_driver_name) {
            uint64_t fdev = pg + PG_FDEVICE, fdrv = pg + PG_FDRIVER;
            vzero(m, fdev, 0x600);
            v16(m, fdev, 3);
            v16(m, fdev + 2, DEVICE_SIZE);
            v64(m, fdev + 0x08, fdrv);
            v32(m, fdev + 0x48, q->device_type);
            v16(m, fdrv, 4);
            v16(m, fdrv + 2, DRIVER_SIZE);
            v64(m, fdrv + 0x08, fdev);
            put_name(m, fdrv + 0x38, pg + PG_FDRIVER_NAME, q->filter_driver_name, false);
        }
        entries[i] = irp + 0x20;                 /* IRP.ThreadListEntry */
    }
    list_link(m, et + ET_IRP_LIST, entries, n);
    if (n && th->irps[0].fault == DT_KW_IRP_LOOP)
        v64(m, entries[0], entries[0]);
}

/* The blocks of dt_kw_thread.waits (kdump_writer.h) and their objects:
 * object k of thread t lives at OBJ_VA(p, t) + 0x40 * k (0x100 per thread). */
static const dt_kw_thread_waits *thread_waits(const dt_kw_system *s, size_t p, size_t t)
{
    for (size_t i = 0; i < s->wait_count; i++)
        if (s->waits[i].process == p && s->waits[i].thread == t && s->waits[i].waits)
            return &s->waits[i];
    return NULL;
}

static void write_wait_blocks(vmem *m, const dt_kw_system *s, size_t p, size_t t)
{
    const dt_kw_thread_waits *th = thread_waits(s, p, t);
    uint64_t et = THREAD_VA(p, t);
    size_t n = th->wait_count < 4 ? th->wait_count : 4;
    v8(m, et + KT_WBLOCK_COUNT, th->fault == DT_KW_WAIT_COUNT_ABSURD ? 0xff : (uint8_t)n);
    for (size_t k = 0; k < n; k++) {
        const dt_kw_wait *w = &th->waits[k];
        uint64_t wb = et + KT_WAITBLOCK0 + 0x30u * k, obj = OBJ_VA(p, t) + 0x40u * k;
        if (w->join_thread && w->join_thread <= s->processes[p].thread_count)
            obj = THREAD_VA(p, w->join_thread - 1);
        else if (w->join_process && w->join_process <= s->process_count)
            obj = PROC_VA(w->join_process - 1);
        else if (th->fault == DT_KW_WAIT_OBJECT_ABSENT)
            obj = ABSENT_VA + 0x40u * k;
        v8(m, wb + 0x10, th->wait_type);
        v16(m, wb + 0x12, w->wait_key);
        v64(m, wb + 0x18, th->fault == DT_KW_WAIT_FOREIGN_BLOCK && k == 1 ? THREAD_VA(p, (t + 1) % 8) : et);
        v64(m, wb + 0x20, obj);
        if (w->join_thread || w->join_process || th->fault == DT_KW_WAIT_OBJECT_ABSENT)
            continue;
        region(m, obj, 0x40);
        v8(m, obj, w->type);
        v8(m, obj + 2, 0x40 / 4); /* Size in LONGs */
        v32(m, obj + 4, (uint32_t)w->signal_state);
        v64(m, obj + 8, obj + 8); /* WaitListHead (a real list would name the waiters) */
        v64(m, obj + 0x10, obj + 8);
        if (w->type == 5)
            v32(m, obj + 0x18, (uint32_t)w->limit);
        for (size_t j = 0; w->type == 2 && j < s->processes[p].thread_count && j < 8; j++)
            if (w->owner_tid && s->processes[p].threads[j].tid == w->owner_tid)
                v64(m, obj + 0x28, THREAD_VA(p, j));
    }
}

uint64_t dt_kw_alpc_message_va(size_t i) { return ALPC_PAGE(i) + AP_MSG; }
uint64_t dt_kw_alpc_port_va(size_t i) { return ALPC_PAGE(i) + AP_COMM_PORT; }
uint64_t dt_kw_alpc_connection_port_va(size_t i) { return ALPC_PAGE(i) + AP_CONN; }

/* A named object: InfoMask 0x02 in its header, then the name info before
 * the header (Directory, Name) with the name's buffer at buf. */
static void named_object(vmem *m, uint64_t body, uint64_t dir, uint64_t buf, const char *name)
{
    v8(m, body - 0x30 + 0x1a, 0x02);
    v64(m, body - 0x50, dir);
    unicode_string(m, body - 0x50 + 8, buf, name);
}

static void write_alpc(vmem *m, const dt_kw_system *s)
{
    for (size_t i = 0; i < s->alpc_count && i < 8; i++) {
        const dt_kw_alpc *a = &s->alpc[i];
        if (a->process >= s->process_count || a->thread >= s->processes[a->process].thread_count ||
            a->server_process >= s->process_count)
            continue;
        uint64_t pg = ALPC_PAGE(i), et = THREAD_VA(a->process, a->thread);
        uint64_t conn = pg + AP_CONN, port = pg + AP_COMM_PORT, owner = PROC_VA(a->server_process);
        region(m, pg, 0x2000);
        if (a->fault == DT_KW_ALPC_OWNER_NOT_PROCESS) {
            owner = pg + AP_NOT_PROCESS;
            v8(m, owner, 5); /* a semaphore, not a process */
        }
        /* \ → RPC Control → the connection port; the communication port is unnamed. */
        named_object(m, pg + AP_ROOT, 0, pg + AP_NAMES, "\\");
        named_object(m, pg + AP_RPCDIR, pg + AP_ROOT, pg + AP_NAMES + 0x20, "RPC Control");
        if (a->port_name)
            named_object(m, conn, pg + AP_RPCDIR, pg + AP_NAMES + 0x80, a->port_name);
        v64(m, pg + AP_COMM_INFO, conn); /* ALPC_COMMUNICATION_INFO.ConnectionPort */
        v64(m, pg + AP_COMM_INFO + 8, port);
        v64(m, conn + 0x10, pg + AP_COMM_INFO);
        v64(m, conn + 0x18, owner);
        v64(m, port + 0x10, pg + AP_COMM_INFO);
        v64(m, port + 0x18, owner);
        v64(m, et + ET_ALPC_ID, a->message_id);
        if (a->receive) {
            /* The server receives on the connection port: its WaitQueue
             * holds the thread, its Semaphore is what the thread waits on. */
            v64(m, conn + 0xf8, OBJ_VA(a->process, a->thread));
            uint64_t entry = et + ET_ALPC_WAIT;
            list_link(m, conn + 0xe8, &entry, 1);
            if (a->fault == DT_KW_ALPC_LIST_BROKEN) {
                uint64_t bad = pg + AP_BROKEN;
                v64(m, entry, bad);      /* Flink to an entry whose Blink is not the thread's */
                v64(m, bad, bad);
                v64(m, bad + 8, conn + 0xe8);
            }
            continue;
        }
        uint64_t msg = pg + AP_MSG;
        v64(m, et + ET_ALPC_MSG, a->fault == DT_KW_ALPC_MESSAGE_ABSENT ? ABSENT_VA + 0x1000 : msg);
        v64(m, msg + 0x10, port); /* PortQueue */
        v64(m, msg + 0x18, port); /* OwnerPort (the client's, here the same page) */
        v64(m, msg + 0x20, a->fault == DT_KW_ALPC_OTHER_WAITER ? THREAD_VA(a->process, (a->thread + 1) % 8) : et);
        if (a->server_thread >= 0 && (size_t)a->server_thread < s->processes[a->server_process].thread_count)
            v64(m, msg + 0xc8, THREAD_VA(a->server_process, (size_t)a->server_thread));
        v32(m, msg + 0xf0 + 0x18, (uint32_t)a->message_id); /* PORT_MESSAGE.MessageId */
    }
}

static const dt_kw_thread_times *thread_times(const dt_kw_system *s, size_t p, size_t t)
{
    for (size_t i = 0; i < s->times_count; i++)
        if (s->times[i].process == p && s->times[i].thread == t)
            return &s->times[i];
    return NULL;
}

static void write_thread(vmem *m, const dt_kw_system *s, size_t p, size_t t)
{
    const dt_kw_thread *th = &s->processes[p].threads[t];
    uint64_t et = THREAD_VA(p, t), base = dt_kw_stack_base(p, t), sp = thread_sp(p, t);
    region(m, et, SIZE_ETHREAD);
    v8(m, et, 6);
    v8(m, et + 2, (uint8_t)(SIZE_ETHREAD / 8));
    v64(m, et + ET_CID, s->processes[p].pid);
    v64(m, et + ET_CID + 8, th->tid);
    v64(m, et + ET_START, th->win32_start_address);
    v64(m, et + ET_CREATE, UINT64_C(0x1d707f23d000000) + th->tid);
    v8(m, et + KT_STATE, th->state);
    v8(m, et + KT_WREASON, th->wait_reason);
    v8(m, et + KT_WMODE, th->wait_mode);
    v32(m, et + KT_MISC, th->alertable ? 0x10 : 0);
    v32(m, et + KT_WTIME, th->wait_time);
    const dt_kw_thread_times *times = thread_times(s, p, t);
    v32(m, et + KT_KTIME, times ? times->kernel_time : 100 + th->tid);
    v32(m, et + KT_UTIME, times ? times->user_time : 7);
    v64(m, et + KT_PROCESS, PROC_VA(p));
    v64(m, et + KT_INIT, base - 0x1d0);
    v64(m, et + KT_LIMIT, base - 0x6000);
    v64(m, et + KT_BASE, base);
    v64(m, et + KT_WBLOCK, et + KT_WAITBLOCK0);
    if (th->state == 5 && thread_waits(s, p, t)) {
        write_wait_blocks(m, s, p, t);
    } else if (th->state == 5) {
        /* KWAIT_BLOCK[0]: Thread +0x18, Object +0x20; the object's header
         * Type; a mutant's OwnerThread at +0x28. */
        uint64_t wb = et + KT_WAITBLOCK0, obj = OBJ_VA(p, t);
        v8(m, et + KT_WBLOCK_COUNT, 1);
        v8(m, wb + 0x10, 1 /* WaitAny */);
        v64(m, wb + 0x18, et);
        v64(m, wb + 0x20, obj);
        region(m, obj, 0x40);
        v8(m, obj, th->wait_object_type);
        for (size_t k = 0; th->wait_object_type == 2 && k < s->processes[p].thread_count && k < 8; k++)
            if (th->mutant_owner_tid && s->processes[p].threads[k].tid == th->mutant_owner_tid)
                v64(m, obj + 0x28, THREAD_VA(p, k));
    }
    /* Stack: frames[1..] above sp with filler between them (small ints and
     * a pool pointer, which a scan must skip).  A thread snapped in its own
     * context has the snapshot routine's frame below sp. */
    uint64_t low = th->captured_context ? dt_kw_captured_rsp(p, t) - 0x40 : sp - 0x40;
    region(m, low, base - low);
    if (th->captured_context)
        write_captured_context(m, th, p, t);
    write_irps(m, et, th, p, t);
    for (size_t j = 1; j < th->frame_count && j <= 30; j++) {
        uint64_t slot = sp + 0x28 + 0x40 * (j - 1);
        v64(m, slot, th->frames[j]);
        v64(m, slot + 8, 0x1234 + j);
        v64(m, slot + 0x10, et);
    }
    if (th->running_cpu >= 0) {
        v64(m, et + KT_KSTACK, sp - 0x200);
    } else {
        /* KSWITCH_FRAME; a thread that ran the snapshot APC since its last
         * switch has a stale one, below the snapshot routine's frame (it
         * still names frames[0], so a walk that falls back to it works). */
        uint64_t ks = th->captured_context ? dt_kw_captured_rsp(p, t) - 0x40 : sp - 0x40;
        v64(m, et + KT_KSTACK, ks);
        v64(m, ks + 0x30, sp + 0x100);
        v64(m, ks + 0x38, th->frame_count ? th->frames[0] : 0);
    }
}

static void build_model(vmem *m, const dt_kw_system *s)
{
    m->st = s->structs ? s->structs : &structs_19041;
    unsigned ncpu = s->processors ? s->processors : 1;
    if (ncpu > 16)
        ncpu = 16;
    write_kdbg(m, ncpu);
    /* KUSER_SHARED_DATA.TickCount */
    region(m, DT_KW_SHARED_DATA, 0x330);
    v32(m, DT_KW_SHARED_DATA + 0x4, 0x0fa00000); /* TickCountMultiplier: 15.625 ms */
    v32(m, DT_KW_SHARED_DATA + 0x320, DT_KW_TICK_COUNT);
    uint64_t procs[64];
    size_t np = s->process_count < 64 ? s->process_count : 64;
    for (size_t p = 0; p < np; p++) {
        const dt_kw_process *pr = &s->processes[p];
        uint64_t ep = PROC_VA(p);
        procs[p] = ep + EP_LINKS;
        region(m, ep, SIZE_EPROCESS);
        v8(m, ep, 3); /* ProcessObject */
        v64(m, ep + 0x28, 0x1ad000 + p * 0x1000);
        v64(m, ep + EP_PID, pr->pid);
        v64(m, ep + EP_CREATE, UINT64_C(0x1d707f23d000000) + pr->pid);
        char name[15] = { 0 };
        strncpy(name, pr->image ? pr->image : "", 14);
        vput(m, ep + EP_IMAGE, name, sizeof name);
        uint64_t threads[64];
        size_t nt = pr->thread_count < 8 ? pr->thread_count : 8;
        for (size_t t = 0; t < nt; t++) {
            write_thread(m, s, p, t);
            threads[t] = THREAD_VA(p, t) + ET_LINK;
        }
        list_link(m, ep + EP_THREADS, threads, nt);
    }
    write_alpc(m, s);
    list_link(m, ACTIVE_HEAD, procs, np);

    /* Loaded modules: nt and one driver. */
    static const struct { const char *path; uint64_t base; uint32_t size, ts; } mods[] = {
        { "\\SystemRoot\\system32\\ntoskrnl.exe", DT_KW_NT_BASE, DT_KW_NT_SIZE, 0x0d8333e6 },
        { "\\SystemRoot\\system32\\drivers\\hello.sys", DT_KW_DRV_BASE, DT_KW_DRV_SIZE, 0x5f000001 },
    };
    uint64_t ldr[2];
    for (size_t i = 0; i < 2; i++) {
        uint64_t e = LDR_VA + i * 0x200;
        ldr[i] = e;
        v64(m, e + 0x30, mods[i].base);
        v32(m, e + 0x40, mods[i].size);
        unicode_string(m, e + 0x48, e + 0x100, mods[i].path);
        v32(m, e + 0x78, 0xa5938c);
        v32(m, e + 0x80, mods[i].ts);
    }
    list_link(m, MODULE_HEAD, ldr, 2);

    /* Processors: the running threads, else idle. */
    for (unsigned i = 0; i < ncpu; i++) {
        uint64_t prcb = PRCB_VA(i), cur = IDLE_VA(i);
        uint64_t rip = DT_KW_NT_BASE + 0x38d14d, rsp = IDLE_VA(i) + 0x800;
        for (size_t p = 0; p < np; p++)
            for (size_t t = 0; t < s->processes[p].thread_count && t < 8; t++) {
                const dt_kw_thread *th = &s->processes[p].threads[t];
                if (th->running_cpu == (int)i) {
                    cur = THREAD_VA(p, t);
                    rip = th->frame_count ? th->frames[0] : 0;
                    rsp = thread_sp(p, t);
                }
            }
        v64(m, KIPB_VA + 8 * i, prcb);
        region(m, prcb, SIZE_PRCB);
        v64(m, prcb + 8, cur);
        v64(m, prcb + 0x18, IDLE_VA(i));
        v16(m, prcb + 0x24, (uint16_t)i);
        v64(m, prcb + PRCB_CONTEXT, CTX_VA(i));
        write_context(m, CTX_VA(i), rip, rsp, rsp + 0x100);
    }
}

/* ---- DUMP_HEADER64 ---- */

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static void put32(uint8_t *b, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void header(uint8_t *h, const dt_kw_system *s, uint32_t type, uint64_t dtb, vmem *m)
{
    for (size_t i = 0; i < 0x2000; i += 4)
        memcpy(h + i, "PAGE", 4);
    memcpy(h + 4, "DU64", 4);
    put32(h, 0x08, 0xf);
    put32(h, 0x0c, s->build);
    put64(h, 0x10, dtb);
    put64(h, 0x18, DT_KW_NT_BASE + 0xcfc500);
    put64(h, 0x20, MODULE_HEAD);
    put64(h, 0x28, ACTIVE_HEAD);
    put32(h, 0x30, 0x8664);
    put32(h, 0x34, s->processors ? s->processors : 1);
    put64(h, 0x38, s->bugcheck_code);
    for (int i = 0; i < 4; i++)
        put64(h, 0x40 + 8 * (size_t)i, s->bugcheck_params[i]);
    put64(h, 0x80, DT_KW_KDBG_VA);
    memset(h + 0x348, 0, 3000);
    vget(m, CTX_VA(0), h + 0x348, 0x4d0);
    memset(h + 0xf00, 0, 0x98);
    put32(h, 0xf98, type);
    put32(h, 0xf9c, 0);
    put64(h, 0xfa0, 0);
    put64(h, 0xfa8, s->system_time ? s->system_time : UINT64_C(0x1d707f23dbb3399));
    put64(h, 0x1030, UINT64_C(0x23bc1e9));
    put32(h, 0x1040, 1);
    put32(h, 0x1044, 0x110);
    if (s->attributes)
        put32(h, 0x1050, s->attributes);
}

/* ---- triage ---- */

typedef struct {
    uint8_t *b;
    size_t len, cap;
    bool oom;
} buf;

static size_t bgrow(buf *b, size_t n, size_t align)
{
    size_t at = (b->len + align - 1) / align * align;
    if (at + n > b->cap) {
        size_t nc = b->cap ? b->cap : 0x10000;
        while (nc < at + n)
            nc *= 2;
        uint8_t *nb = realloc(b->b, nc);
        if (!nb) {
            b->oom = true;
            return 0;
        }
        memset(nb + b->cap, 0, nc - b->cap);
        b->b = nb;
        b->cap = nc;
    }
    b->len = at + n;
    return at;
}

uint8_t *dt_kw_build_triage(const dt_kw_system *s, size_t *size)
{
    vmem m = { 0 };
    build_model(&m, s);
    buf b = { 0 };
    bgrow(&b, 0x2080, 1);
    if (b.oom || m.oom)
        goto fail;
    size_t cp = s->current_process < s->process_count ? s->current_process : 0;
    size_t ct = s->process_count && s->current_thread < s->processes[cp].thread_count ? s->current_thread : 0;
    int cur_cpu = s->process_count && s->processes[cp].thread_count ? s->processes[cp].threads[ct].running_cpu : -1;
    size_t mm = bgrow(&b, 0x50, 8);
    size_t unl = bgrow(&b, 8, 8);
    size_t prcb = bgrow(&b, SIZE_PRCB, 8);
    size_t proc = bgrow(&b, SIZE_EPROCESS, 8);
    size_t thr = bgrow(&b, SIZE_ETHREAD, 8);
    if (b.oom)
        goto fail;
    vget(&m, PRCB_VA(cur_cpu >= 0 ? (unsigned)cur_cpu : 0), b.b + prcb, SIZE_PRCB);
    /* The PRCB copy names the current thread, whatever cpu it is on. */
    put64(b.b, prcb + 8, THREAD_VA(cp, ct));
    vget(&m, PROC_VA(cp), b.b + proc, SIZE_EPROCESS);
    vget(&m, THREAD_VA(cp, ct), b.b + thr, SIZE_ETHREAD);
    uint64_t top = thread_sp(cp, ct), stack_end = dt_kw_stack_base(cp, ct);
    size_t cs = bgrow(&b, stack_end - top, 8);
    if (b.oom)
        goto fail;
    vget(&m, top, b.b + cs, stack_end - top);
    put32(b.b, mm, 1);
    put32(b.b, mm + 4, 0x50);
    /* Drivers and their string pool. */
    static const struct { const char *name; uint64_t base; uint32_t size, ts; } drv[] = {
        { "\\SystemRoot\\system32\\ntoskrnl.exe", DT_KW_NT_BASE, DT_KW_NT_SIZE, 0x0d8333e6 },
        { "\\SystemRoot\\system32\\drivers\\hello.sys", DT_KW_DRV_BASE, DT_KW_DRV_SIZE, 0x5f000001 },
    };
    size_t dl = bgrow(&b, 2 * 0x90, 8);
    size_t pool = b.len;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(drv[i].name);
        size_t so = bgrow(&b, 4 + 2 * n + 2, 8);
        if (b.oom)
            goto fail;
        put32(b.b, so, (uint32_t)n);
        for (size_t k = 0; k < n; k++)
            b.b[so + 4 + 2 * k] = (uint8_t)drv[i].name[k];
        size_t e = dl + i * 0x90;
        put32(b.b, e, (uint32_t)so);
        put64(b.b, e + 0x38, drv[i].base);
        put32(b.b, e + 0x48, drv[i].size);
        put32(b.b, e + 0x80, 0xa5938c);
        put32(b.b, e + 0x88, drv[i].ts);
    }
    size_t pool_size = b.len - pool;
    size_t kdbg = bgrow(&b, 0x380, 8);
    if (b.oom)
        goto fail;
    vget(&m, DT_KW_KDBG_VA, b.b + kdbg, 0x380);
    size_t blocks = bgrow(&b, 16 * m.nr, 8);
    if (b.oom)
        goto fail;
    for (size_t i = 0; i < m.nr; i++) {
        size_t d = bgrow(&b, m.ranges[i][1], 1);
        if (b.oom)
            goto fail;
        vget(&m, m.ranges[i][0], b.b + d, m.ranges[i][1]);
        put64(b.b, blocks + 16 * i, m.ranges[i][0]);
        put32(b.b, blocks + 16 * i + 8, (uint32_t)d);
        put32(b.b, blocks + 16 * i + 12, (uint32_t)m.ranges[i][1]);
    }
    size_t valid = bgrow(&b, 4, 4);
    if (b.oom)
        goto fail;
    memcpy(b.b + valid, "TRGD", 4);

    header(b.b, s, 4, 0, &m);
    put32(b.b, 0x1038, 0xcff);
    uint8_t *t = b.b + 0x2000;
    put32(t, 0x04, (uint32_t)b.len);
    put32(t, 0x08, (uint32_t)valid);
    put32(t, 0x0c, 0x348);
    put32(t, 0x10, 0xf00);
    put32(t, 0x14, (uint32_t)mm);
    put32(t, 0x18, (uint32_t)unl);
    put32(t, 0x1c, (uint32_t)prcb);
    put32(t, 0x20, (uint32_t)proc);
    put32(t, 0x24, (uint32_t)thr);
    put32(t, 0x28, (uint32_t)cs);
    put32(t, 0x2c, (uint32_t)(stack_end - top));
    put32(t, 0x30, (uint32_t)dl);
    put32(t, 0x34, 2);
    put32(t, 0x38, (uint32_t)pool);
    put32(t, 0x3c, (uint32_t)pool_size);
    put32(t, 0x44, 0xffffffffu);
    put64(t, 0x48, top);
    put32(t, 0x70, (uint32_t)kdbg);
    put32(t, 0x74, 0x380);
    put32(t, 0x78, (uint32_t)blocks);
    put32(t, 0x7c, (uint32_t)m.nr);
    vmem_free(&m);
    *size = b.len;
    return b.b;
fail:
    vmem_free(&m);
    free(b.b);
    return NULL;
}

/* ---- physical (full / bitmap) ---- */

typedef struct {
    uint64_t pfn;
    uint8_t *data;
} ppage;

typedef struct {
    ppage *p;
    size_t n, cap;
    uint64_t next_pfn;
    bool oom;
} pmem;

static uint8_t *pget(pmem *m, uint64_t pfn)
{
    for (size_t i = m->n; i-- > 0;)
        if (m->p[i].pfn == pfn)
            return m->p[i].data;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 128;
        ppage *np = realloc(m->p, nc * sizeof *np);
        if (!np) {
            m->oom = true;
            return NULL;
        }
        m->p = np;
        m->cap = nc;
    }
    uint8_t *d = calloc(1, PAGE);
    if (!d) {
        m->oom = true;
        return NULL;
    }
    m->p[m->n].pfn = pfn;
    m->p[m->n].data = d;
    m->n++;
    return d;
}

static uint64_t palloc(pmem *m)
{
    uint64_t pfn = m->next_pfn++;
    pget(m, pfn);
    return pfn;
}

static uint64_t get_entry(pmem *m, uint64_t table_pfn, unsigned idx)
{
    uint8_t *t = pget(m, table_pfn);
    uint64_t e = 0;
    for (int i = 7; t && i >= 0; i--)
        e = (e << 8) | t[idx * 8 + (unsigned)i];
    return e;
}
static void set_entry(pmem *m, uint64_t table_pfn, unsigned idx, uint64_t e)
{
    uint8_t *t = pget(m, table_pfn);
    if (t)
        put64(t, idx * 8, e);
}

static uint64_t next_table(pmem *m, uint64_t table_pfn, unsigned idx)
{
    uint64_t e = get_entry(m, table_pfn, idx);
    if (e & 1)
        return (e & UINT64_C(0x000FFFFFFFFFF000)) >> 12;
    uint64_t pfn = palloc(m);
    set_entry(m, table_pfn, idx, (pfn << 12) | 0x3);
    return pfn;
}

static int cmp_ppage(const void *a, const void *b)
{
    const ppage *x = a, *y = b;
    return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static bool pwrite_all(int fd, const void *b, size_t n, uint64_t off)
{
    const uint8_t *p = b;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return true;
}

/* Win8+ x64 keeps KDDEBUGGER_DATA64 encoded in memory (docs/kernel.md
 * "Encoded KDBG"): the inverse of dt_kdbg_decode, per qword
 * w = rotr(bswap(plain ^ always) ^ block_va, never & 63) ^ never. */
static void encode_kdbg(vmem *m, uint64_t never, uint64_t always)
{
    unsigned r = (unsigned)(never & 0xFF) % 64;
    for (uint64_t off = 0; off < 0x380; off += 8) {
        uint64_t w;
        vget(m, DT_KW_KDBG_VA + off, &w, 8);
        w = __builtin_bswap64(w ^ always) ^ DT_KW_KDBG_VA;
        w = r ? (w >> r) | (w << (64 - r)) : w;
        v64(m, DT_KW_KDBG_VA + off, w ^ never);
    }
}

static int write_physical(const dt_kw_system *s, const dt_kw_physical *o, const uint64_t *wait, const char *path);

int dt_kw_write_physical(const dt_kw_system *s, const dt_kw_physical *o, const char *path)
{
    return write_physical(s, o, NULL, path);
}

int dt_kw_write_physical_kdbg_encoded(const dt_kw_system *s, const dt_kw_physical *o, uint64_t wait_never,
                                      uint64_t wait_always, const char *path)
{
    const uint64_t wait[2] = { wait_never, wait_always };
    return write_physical(s, o, wait, path);
}

static int write_physical(const dt_kw_system *s, const dt_kw_physical *o, const uint64_t *wait, const char *path)
{
    vmem m = { 0 };
    build_model(&m, s);
    if (wait)
        encode_kdbg(&m, wait[0], wait[1]);
    pmem pm = { 0 };
    pm.next_pfn = 0x1000;
    uint64_t pml4 = palloc(&pm);
    uint64_t trans_page = ACTIVE_HEAD & ~(uint64_t)(PAGE - 1);
    for (size_t i = 0; i < m.n && !pm.oom; i++) {
        uint64_t va = m.pages[i].va;
        uint64_t pdpt = next_table(&pm, pml4, (va >> 39) & 0x1ff);
        uint64_t pa;
        if (o->large_pages && va - POOL_1G < (UINT64_C(1) << 30)) {
            set_entry(&pm, pdpt, (va >> 30) & 0x1ff, UINT64_C(0x40000000) | 0x83);
            pa = UINT64_C(0x40000000) + (va - POOL_1G);
        } else {
            uint64_t pd = next_table(&pm, pdpt, (va >> 30) & 0x1ff);
            if (o->large_pages && va - STACKS_2M < (UINT64_C(1) << 21)) {
                set_entry(&pm, pd, (va >> 21) & 0x1ff, UINT64_C(0x600000) | 0x83);
                pa = UINT64_C(0x600000) + (va - STACKS_2M);
            } else {
                uint64_t pt = next_table(&pm, pd, (va >> 21) & 0x1ff);
                uint64_t pfn = palloc(&pm);
                bool trans = o->transition_pte && va == trans_page;
                /* Transition: not present, bit 11 set, frame still named. */
                set_entry(&pm, pt, (va >> 12) & 0x1ff, (pfn << 12) | (trans ? 0x800 : 0x3));
                pa = pfn << 12;
            }
        }
        uint8_t *d = pget(&pm, pa >> 12);
        if (d)
            memcpy(d, m.pages[i].data, PAGE);
    }
    int rc = -1;
    uint8_t *hdr = malloc(0x2000);
    int fd = -1;
    if (pm.oom || m.oom || !hdr)
        goto out;
    qsort(pm.p, pm.n, sizeof *pm.p, cmp_ppage);
    header(hdr, s, (uint32_t)o->layout, pml4 << 12, &m);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        goto out;
    if (o->layout == DT_KW_FULL) {
        /* Runs: consecutive frames, small gaps filled with zero pages. */
        uint64_t runs[42][2];
        size_t nr = 0;
        for (size_t i = 0; i < pm.n; i++) {
            uint64_t f = pm.p[i].pfn;
            if (nr && f - (runs[nr - 1][0] + runs[nr - 1][1]) <= 16) {
                runs[nr - 1][1] = f - runs[nr - 1][0] + 1;
            } else {
                if (nr == 42)
                    goto out;
                runs[nr][0] = f;
                runs[nr][1] = 1;
                nr++;
            }
        }
        uint64_t total = 0;
        for (size_t r = 0; r < nr; r++)
            total += runs[r][1];
        memset(hdr + 0x88, 0, 700);
        put32(hdr, 0x88, (uint32_t)nr);
        put64(hdr, 0x90, total);
        uint64_t file_page = 0;
        for (size_t r = 0; r < nr; r++) {
            put64(hdr, 0x98 + 16 * r, runs[r][0]);
            put64(hdr, 0xa0 + 16 * r, runs[r][1]);
        }
        for (size_t r = 0, i = 0; r < nr; r++) {
            for (; i < pm.n && pm.p[i].pfn < runs[r][0] + runs[r][1]; i++)
                if (!pwrite_all(fd, pm.p[i].data, PAGE, 0x2000 + (file_page + pm.p[i].pfn - runs[r][0]) * PAGE))
                    goto out;
            file_page += runs[r][1];
        }
        if (ftruncate(fd, (off_t)(0x2000 + file_page * PAGE)) != 0)
            goto out;
    } else {
        uint64_t maxpfn = pm.n ? pm.p[pm.n - 1].pfn : 0;
        uint64_t bits = maxpfn + 1 + o->extra_pages;
        uint64_t bytes = (bits + 7) / 8;
        uint8_t *bm = calloc(1, bytes);
        if (!bm)
            goto out;
        for (size_t i = 0; i < pm.n; i++)
            bm[pm.p[i].pfn / 8] |= (uint8_t)(1u << (pm.p[i].pfn % 8));
        for (uint64_t f = maxpfn + 1; f < bits; f++)
            bm[f / 8] |= (uint8_t)(1u << (f % 8));
        uint64_t first = (0x2000 + 0x38 + bytes + PAGE - 1) / PAGE * PAGE;
        uint8_t bh[0x38] = { 0 };
        memcpy(bh, o->layout == DT_KW_BITMAP_FULL ? "FDMP" : "SDMP", 4);
        memcpy(bh + 4, "DUMP", 4);
        put64(bh, 0x20, first);
        put64(bh, 0x28, pm.n + o->extra_pages);
        put64(bh, 0x30, bits);
        bool ok = pwrite_all(fd, bh, sizeof bh, 0x2000) && pwrite_all(fd, bm, bytes, 0x2038);
        free(bm);
        if (!ok)
            goto out;
        for (size_t i = 0; i < pm.n; i++)
            if (!pwrite_all(fd, pm.p[i].data, PAGE, first + i * PAGE))
                goto out;
        if (ftruncate(fd, (off_t)(first + (pm.n + o->extra_pages) * PAGE)) != 0)
            goto out;
    }
    if (!pwrite_all(fd, hdr, 0x2000, 0))
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(hdr);
    for (size_t i = 0; i < pm.n; i++)
        free(pm.p[i].data);
    free(pm.p);
    vmem_free(&m);
    return rc;
}
