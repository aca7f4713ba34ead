/*
 * kernel_stack.c — kernel stack frames for each thread, until the generic
 * walker (unwind/stackwalk.h) takes over.
 *
 * ARM64: Windows functions save FP/LR as a pair, so the frame-pointer chain
 * ([fp] = caller fp, [fp+8] = return address) is a real unwind
 * (docs/formats.md E.5, verified on the ARM64 triage dump).
 * x64/x86: frame 0 is the context's instruction pointer; the rest is a
 * bounded scan of the stack for words that point into a driver and, when
 * the code bytes before them are in the dump, follow a call instruction.
 * Those frames are marked "scan" — good enough to see where a thread is,
 * not a substitute for .pdata unwinding.
 */
#include <stdlib.h>
#include <string.h>

#include "model/kernel_dump_internal.h"

#define MAX_SCAN_BYTES (64u * 1024u)
#define MAX_EXEC_RANGES 24u

/* Executable sections of one driver, read from its PE header in the dump
 * (or an image file); lets the scan drop pointers into data sections. */
typedef struct {
    int state; /* 0 not looked at, 1 known, -1 unavailable */
    uint32_t n;
    uint32_t start[MAX_EXEC_RANGES], end[MAX_EXEC_RANGES];
    uint32_t raw[MAX_EXEC_RANGES];  /* file offset of each range (image file only) */
    dt_view file;                   /* the PE file, when the hook gave one */
} exec_map;

/* Section table from a PE file supplied by the image_file hook. */
static void load_exec_map_file(dt_view f, exec_map *x)
{
    uint32_t lfanew, sig;
    uint16_t nsec, opt;
    if (!dt_view_u32(f, 0x3C, &lfanew) || !dt_view_u32(f, lfanew, &sig) || sig != 0x00004550u ||
        !dt_view_u16(f, (uint64_t)lfanew + 6, &nsec) || !dt_view_u16(f, (uint64_t)lfanew + 20, &opt))
        return;
    uint64_t sec = (uint64_t)lfanew + 24 + opt;
    if (nsec > 96)
        nsec = 96;
    for (uint16_t i = 0; i < nsec && x->n < MAX_EXEC_RANGES; i++) {
        uint32_t vsize, va, rawsz, raw, ch;
        uint64_t e = sec + 40u * i;
        if (!dt_view_u32(f, e + 8, &vsize) || !dt_view_u32(f, e + 12, &va) || !dt_view_u32(f, e + 16, &rawsz) ||
            !dt_view_u32(f, e + 20, &raw) || !dt_view_u32(f, e + 36, &ch))
            return;
        if ((ch & 0x20000000u) && vsize) {
            x->start[x->n] = va;
            x->end[x->n] = va + vsize;
            x->raw[x->n] = raw;
            x->n++;
        }
    }
    if (x->n) {
        x->file = f;
        x->state = 1;
    }
}

static void load_exec_map(const dt_kernel_dump *kd, const dt_module *m, exec_map *x)
{
    const dt_addrspace *as = &kd->as;
    x->state = -1;
    dt_view pe;
    if (kd->options.image_file && kd->options.image_file(kd->options.image_file_ctx, m, &pe)) {
        load_exec_map_file(pe, x);
        if (x->state == 1)
            return;
    }
    uint32_t lfanew, sig;
    uint16_t nsec = 0, opt = 0;
    uint8_t fh[24];
    if (!dt_as_u32(as, m->base + 0x3C, &lfanew) || lfanew > 0x1000 || !dt_as_u32(as, m->base + lfanew, &sig) ||
        sig != 0x00004550u || !dt_as_read_exact(as, m->base + lfanew, fh, sizeof fh))
        return;
    nsec = dt_le16(fh + 6);
    opt = dt_le16(fh + 20);
    uint64_t sec = m->base + lfanew + 24 + opt;
    if (nsec > 96)
        nsec = 96;
    for (uint16_t i = 0; i < nsec && x->n < MAX_EXEC_RANGES; i++) {
        uint8_t sh[40];
        if (!dt_as_read_exact(as, sec + 40u * i, sh, sizeof sh))
            return; /* a partial table would drop real frames */
        uint32_t vsize = dt_le32(sh + 8), va = dt_le32(sh + 12), ch = dt_le32(sh + 36);
        if ((ch & 0x20000000u) && vsize) {
            x->start[x->n] = va;
            x->end[x->n] = va + vsize;
            x->n++;
        }
    }
    x->state = x->n ? 1 : -1;
}

/* 1 in code, 0 not in code, -1 unknown. */
static int in_code(dt_kernel_dump *kd, exec_map *maps, uint64_t v, const dt_module **mod)
{
    const dt_module *m = dt_module_list_find(&kd->drivers, v);
    *mod = m;
    if (!m)
        return 0;
    if (v - m->base < 0x1000)
        return 0; /* the headers page never holds code */
    exec_map *x = &maps[m - kd->drivers.items];
    if (x->state == 0)
        load_exec_map(kd, m, x);
    if (x->state < 0)
        return -1;
    uint64_t rva = v - m->base;
    for (uint32_t i = 0; i < x->n; i++)
        if (rva > x->start[i] && rva <= x->end[i])
            return 1;
    return 0;
}

typedef struct {
    dt_kernel_frame *items;
    size_t count, cap, max;
} frame_list;

static bool push(frame_list *l, uint64_t ip, uint64_t sp, const char *trust)
{
    if (l->count >= l->max)
        return false;
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        dt_kernel_frame *n = realloc(l->items, ncap * sizeof *n);
        if (!n)
            return false;
        l->items = n;
        l->cap = ncap;
    }
    l->items[l->count].ip = ip;
    l->items[l->count].sp = sp;
    l->items[l->count].trust = trust;
    l->count++;
    return true;
}

/* Upper bound of the stack that sp lives on. */
static uint64_t stack_end(const dt_kernel_dump *kd, const dt_kernel_thread *t, uint64_t sp)
{
    if (t->stack_base && t->stack_limit && sp >= t->stack_limit && sp < t->stack_base)
        return t->stack_base;
    if (t->stack_base && sp < t->stack_base && t->stack_base - sp <= MAX_SCAN_BYTES)
        return t->stack_base;
    /* Stacks of other processors (or DPC stacks) end where their memory ends. */
    (void)kd;
    return sp + MAX_SCAN_BYTES;
}

static bool rex(uint8_t b) { return (b & 0xF0) == 0x40; }

/* The 8 code bytes before ret, from the dump or else from the image file. */
static bool code_before(const dt_addrspace *as, const dt_module *m, const exec_map *x, uint64_t ret, uint8_t c[8])
{
    if (ret >= 8 && dt_as_read_exact(as, ret - 8, c, 8))
        return true;
    if (!m || !x || !x->file.size)
        return false;
    uint64_t rva = ret - m->base;
    for (uint32_t i = 0; i < x->n; i++)
        if (rva >= x->start[i] + 8 && rva <= x->end[i])
            return dt_view_copy(x->file, (uint64_t)x->raw[i] + (rva - x->start[i]) - 8, c, 8);
    return false;
}

/* True when the bytes before ret decode as a call (x86/x64 encodings). */
static int call_precedes(const uint8_t *c, bool have)
{
    if (!have)
        return -1; /* code not in the dump */
    const uint8_t *p = c + 8; /* p[-k] = byte k before ret */
    if (p[-5] == 0xE8)
        return 1; /* call rel32 */
    if (p[-5] == 0xFF && p[-4] == 0x15)
        return 1; /* on-disk `call [__imp_X]` that the kernel's import optimization
                   * rewrote in memory to `call X` (5 bytes) + nop */
    if (p[-6] == 0xFF && (p[-5] == 0x15 || (p[-5] & 0xF8) == 0x90))
        return 1; /* call [rip+disp32] / [reg+disp32] */
    if (p[-7] == 0xFF && p[-6] == 0x94)
        return 1; /* call [sib+disp32] */
    if (p[-2] == 0xFF && (p[-1] & 0xF8) == 0xD0)
        return 1; /* call reg */
    if (p[-3] == 0xFF && (p[-2] & 0xF8) == 0x50)
        return 1; /* call [reg+disp8] */
    if (p[-4] == 0xFF && p[-3] == 0x54)
        return 1; /* call [sib+disp8] */
    if (p[-3] == 0xFF && (p[-2] & 0xF8) == 0x10)
        return 1; /* call [reg] with sib/rex */
    if (rex(p[-3]) && p[-2] == 0xFF && (p[-1] & 0xF8) == 0xD0)
        return 1;
    if (rex(p[-4]) && p[-3] == 0xFF && (p[-2] & 0xF8) == 0x50)
        return 1;
    if (rex(p[-7]) && p[-6] == 0xFF && (p[-5] & 0xF8) == 0x90)
        return 1;
    if (p[-2] == 0xFF && (p[-1] & 0xF8) == 0x10)
        return 1; /* call [reg] */
    if (rex(p[-3]) && p[-2] == 0xFF && (p[-1] & 0xF8) == 0x10)
        return 1;
    return 0;
}

static void scan_walk(dt_kernel_dump *kd, dt_kernel_thread *t, frame_list *l, exec_map *maps)
{
    int ipr = dt_cpu_context_ip_reg(t->start.arch), spr = dt_cpu_context_sp_reg(t->start.arch);
    uint64_t ip, sp;
    if (!dt_ctx_get(&t->start, ipr, &ip) || !dt_ctx_get(&t->start, spr, &sp))
        return;
    push(l, ip, sp, "context");
    unsigned ps = kd->as.pointer_size;
    uint64_t end = stack_end(kd, t, sp);
    if (end <= sp)
        return;
    uint64_t len = end - sp;
    if (len > MAX_SCAN_BYTES)
        len = MAX_SCAN_BYTES;
    uint8_t *buf = malloc(len);
    if (!buf)
        return;
    size_t got = dt_as_read(&kd->as, sp, buf, (size_t)len);
    /* Most stack words are not code addresses; reject them by the span of
     * all drivers before any per-module lookup. */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < kd->drivers.count; i++) {
        const dt_module *d = &kd->drivers.items[i];
        if (d->base < lo)
            lo = d->base;
        if (d->base + d->size > hi)
            hi = d->base + d->size;
    }
    for (size_t off = 0; off + ps <= got && l->count < l->max; off += ps) {
        uint64_t v = ps == 8 ? dt_le64(buf + off) : dt_le32(buf + off);
        if (v < lo || v >= hi)
            continue;
        const dt_module *m = NULL;
        if (!maps) {
            if (!dt_module_list_find(&kd->drivers, v))
                continue;
        } else if (in_code(kd, maps, v, &m) == 0) {
            continue;
        }
        uint8_t code[8];
        const exec_map *x = maps && m ? &maps[m - kd->drivers.items] : NULL;
        if (call_precedes(code, code_before(&kd->as, m, x, v, code)) == 0)
            continue;
        push(l, v, sp + off + ps, "scan");
    }
    free(buf);
}

static uint64_t strip_pac(uint64_t lr)
{
    /* Pointer authentication puts a signature in the top bits; kernel
     * addresses have bit 55 set, so the canonical form is all ones. */
    return (lr & (UINT64_C(1) << 55)) ? (lr | UINT64_C(0xFFFF000000000000)) : (lr & UINT64_C(0x0000FFFFFFFFFFFF));
}

static void fp_walk_arm64(dt_kernel_dump *kd, dt_kernel_thread *t, frame_list *l)
{
    uint64_t pc, sp, fp;
    if (!dt_ctx_get(&t->start, DT_ARM64_PC, &pc) || !dt_ctx_get(&t->start, DT_ARM64_SP, &sp))
        return;
    push(l, pc, sp, "context");
    if (!dt_ctx_get(&t->start, DT_ARM64_FP, &fp))
        return;
    uint64_t end = stack_end(kd, t, sp);
    uint64_t prev = sp ? sp - 1 : 0;
    while (l->count < l->max) {
        if (!fp || fp % 8 || fp <= prev || fp >= end)
            break;
        uint64_t next_fp, lr;
        if (!dt_as_u64(&kd->as, fp, &next_fp) || !dt_as_u64(&kd->as, fp + 8, &lr) || !lr)
            break;
        lr = strip_pac(lr);
        push(l, lr, fp + 16, "frame_pointer");
        prev = fp;
        fp = next_fp;
    }
}

void dt_kernel_walk_stacks(dt_kernel_dump *kd, size_t max_frames)
{
    exec_map *maps = calloc(kd->drivers.count ? kd->drivers.count : 1, sizeof *maps);
    for (size_t i = 0; i < kd->thread_count; i++) {
        dt_kernel_thread *t = &kd->threads[i];
        if (!t->has_start)
            continue;
        frame_list l = { NULL, 0, 0, max_frames };
        if (t->start.arch == DT_ARCH_ARM64)
            fp_walk_arm64(kd, t, &l);
        else
            scan_walk(kd, t, &l, maps);
        t->frames = l.items;
        t->frame_count = l.count;
    }
    free(maps);
}
