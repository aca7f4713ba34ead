/*
 * kernel_stacks.c — every kernel thread's frames (see kernel_stacks.h).
 *
 * Triage dumps rarely hold ntoskrnl's .pdata, so on them the walker unwinds
 * little past frame 0; a kernel stack, though, is small and bounded
 * (StackLimit..StackBase), so a scan of all of it finds nearly every return
 * address (docs/kernel.md: 35 of rizin's 36 PDB-unwound frames on the x64
 * triage dump).  Hence two passes over one image cache: the walker's
 * unwound frames first, and past them the deeper frames of the scan.
 *
 * The scan keeps a stack word when it points into a driver's executable
 * section (the image's section table, formats/pe.h, from dump memory or
 * the image file the hooks supply) and the code before it is a call
 * (dt_scan_call_site, the same rule the walker's own scan uses).  On ARM64,
 * where Windows saves FP/LR as a pair, the FP chain is a real unwind
 * (docs/formats.md E.5) and replaces the scan.
 */
#include "unwind/kernel_stacks.h"

#include <stdlib.h>
#include <string.h>

#include "unwind/scan.h"
#include "unwind/symbol_hooks.h"
#include "unwind/unwind_arm64.h"
#include "unwind/walker.h"

#define MAX_SCAN_BYTES (64u * 1024u)
#define DEFAULT_MAX_FRAMES 256u

/* ---- hooks: the symbolizer's unwinding, PE files from the options first ---- */

typedef struct {
    const dt_kernel_dump *kd;
    dt_stackwalk_hooks inner; /* the symbolizer's hooks, or none */
} kernel_hooks;

static bool kh_cfi(void *ctx, const dt_module *m, uint64_t rva, const dt_cpu_context *callee,
                   const dt_addrspace *as, dt_cfi_frame_info *info, dt_cpu_context *caller)
{
    const kernel_hooks *k = ctx;
    return k->inner.cfi_unwind(k->inner.ctx, m, rva, callee, as, info, caller);
}

static bool kh_has_function(void *ctx, const dt_module *m, uint64_t rva)
{
    const kernel_hooks *k = ctx;
    return k->inner.has_function(k->inner.ctx, m, rva);
}

/* The caller's image_file option (e.g. a symbol store) wins over the
 * symbolizer's directories: it is what the caller asked for. */
static bool kh_image(void *ctx, const dt_module *m, dt_view *out)
{
    const kernel_hooks *k = ctx;
    if (k->kd->options.image_file)
        return k->kd->options.image_file(k->kd->options.image_file_ctx, m, out);
    return k->inner.image_file && k->inner.image_file(k->inner.ctx, m, out);
}

/* ---- frame lists -------------------------------------------------------------- */

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
static uint64_t stack_end(const dt_kernel_thread *t, uint64_t sp)
{
    if (t->stack_base && t->stack_limit && sp >= t->stack_limit && sp < t->stack_base)
        return t->stack_base;
    if (t->stack_base && sp < t->stack_base && t->stack_base - sp <= MAX_SCAN_BYTES)
        return t->stack_base;
    /* Stacks of other processors (or DPC stacks) end where their memory ends. */
    return sp + MAX_SCAN_BYTES;
}

/* ---- the scan (x64/x86) and the FP chain (ARM64) ------------------------------- */

/* 1 when ret follows code of m, 0 when not, -1 when m's sections are not
 * known.  The call ends just before ret, so it is ret - 1 that must lie in
 * code (a noreturn call may end a section). */
static int after_code(dt_walker *w, const dt_module *m, uint64_t ret)
{
    uint64_t rva = ret - m->base;
    if (rva < 0x1000)
        return 0; /* the headers page never holds code */
    const dt_pe *pe = dt_walker_image(w, m);
    bool any_code = false;
    for (size_t i = 0; pe && i < pe->section_count && !any_code; i++)
        any_code = pe->sections[i].characteristics & (DT_PE_SCN_CNT_CODE | DT_PE_SCN_MEM_EXECUTE);
    if (!any_code)
        return -1;
    return rva - 1 <= UINT32_MAX && dt_pe_rva_is_code(pe, (uint32_t)(rva - 1));
}

static void scan_stack(const dt_kernel_dump *kd, const dt_kernel_thread *t, dt_walker *w, frame_list *l)
{
    int ipr = dt_cpu_context_ip_reg(t->start.arch), spr = dt_cpu_context_sp_reg(t->start.arch);
    uint64_t ip, sp;
    if (!dt_ctx_get(&t->start, ipr, &ip) || !dt_ctx_get(&t->start, spr, &sp))
        return;
    push(l, ip, sp, "context");
    unsigned ps = kd->as.pointer_size;
    uint64_t end = stack_end(t, sp);
    if (end <= sp || (ps != 4 && ps != 8))
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
    /* A CONTEXT captured on the stack (the -mk snapshot's) holds the very
     * Rip the walk starts from and other registers: data, not frames. */
    uint64_t skip_lo = 0, skip_hi = 0;
    if (t->start_source && strcmp(t->start_source, "captured_context") == 0 && t->start_context) {
        skip_lo = t->start_context;
        skip_hi = t->start_context + DT_CONTEXT_AMD64_SIZE;
    }
    for (size_t off = 0; off + ps <= got && l->count < l->max; off += ps) {
        if (sp + off >= skip_lo && sp + off < skip_hi)
            continue;
        uint64_t v = ps == 8 ? dt_le64(buf + off) : dt_le32(buf + off);
        if (v < lo || v >= hi)
            continue;
        const dt_module *m = dt_walker_module(w, v);
        if (!m || after_code(w, m, v) == 0 || dt_scan_call_site(w, v) == 0)
            continue;
        push(l, v, sp + off + ps, "scan");
    }
    free(buf);
}

static void fp_chain_arm64(const dt_kernel_dump *kd, const dt_kernel_thread *t, frame_list *l)
{
    uint64_t pc, sp, fp;
    if (!dt_ctx_get(&t->start, DT_ARM64_PC, &pc) || !dt_ctx_get(&t->start, DT_ARM64_SP, &sp))
        return;
    push(l, pc, sp, "context");
    if (!dt_ctx_get(&t->start, DT_ARM64_FP, &fp))
        return;
    uint64_t end = stack_end(t, sp);
    uint64_t prev = sp ? sp - 1 : 0;
    while (l->count < l->max) {
        if (!fp || fp % 8 || fp <= prev || fp >= end)
            break;
        uint64_t next_fp, lr;
        if (!dt_as_u64(&kd->as, fp, &next_fp) || !dt_as_u64(&kd->as, fp + 8, &lr) || !lr)
            break;
        push(l, dt_arm64_strip_pac(lr), fp + 16, "frame_pointer");
        prev = fp;
        fp = next_fp;
    }
}

/* ---- one thread ---------------------------------------------------------------- */

static bool frame_unwound(dt_frame_trust t)
{
    return t == DT_TRUST_CFI || t == DT_TRUST_FRAME_POINTER || t == DT_TRUST_CFI_SCAN;
}

static void walk_thread(dt_kernel_dump *kd, dt_kernel_thread *t, const dt_stackwalk_hooks *hooks,
                        dt_stackwalk_cache *cache, size_t max)
{
    dt_stackwalk_input in = { 0 };
    in.arch = t->start.arch;
    in.start = &t->start;
    in.memory = &kd->as;
    in.modules = &kd->drivers;
    in.hooks = hooks;
    in.max_frames = max;
    in.cache = cache;

    frame_list l = { NULL, 0, 0, max };
    if (t->start.arch == DT_ARCH_ARM64) {
        fp_chain_arm64(kd, t, &l);
    } else {
        dt_walker w;
        dt_walker_init(&w, &in, cache);
        scan_stack(kd, t, &w, &l);
    }
    t->frames = l.items;
    t->frame_count = l.count;
    if (!l.count)
        return;

    uint64_t sp = l.items[0].sp;
    if (t->stack_limit && t->stack_base && sp >= t->stack_limit && sp < t->stack_base) {
        in.stack_low = t->stack_limit;
        in.stack_high = t->stack_base;
    }
    dt_stack st;
    if (dt_stackwalk(&in, &st, NULL) != DT_OK)
        return;
    /* Keep the walker's frames while they are unwound (not guessed); past
     * them, the scan's frames that lie deeper on the stack. */
    size_t keep = 1;
    while (keep < st.count && frame_unwound(st.frames[keep].trust))
        keep++;
    if (keep > 1) {
        uint64_t last_sp = st.frames[keep - 1].sp;
        size_t tail = 0;
        for (size_t k = 1; k < l.count; k++)
            if (l.items[k].sp > last_sp)
                tail++;
        size_t n = keep + tail;
        if (n > max)
            n = max;
        dt_kernel_frame *nf = calloc(n, sizeof *nf);
        if (nf) {
            size_t w = 0;
            for (size_t k = 0; k < keep && w < n; k++, w++) {
                nf[w].ip = st.frames[k].ip;
                nf[w].sp = st.frames[k].sp;
                nf[w].trust = dt_frame_trust_name(st.frames[k].trust);
            }
            for (size_t k = 1; k < l.count && w < n; k++)
                if (l.items[k].sp > last_sp)
                    nf[w++] = l.items[k];
            free(t->frames);
            t->frames = nf;
            t->frame_count = w;
        }
    }
    dt_stack_free(&st);
}

void dt_kernel_walk_stacks(dt_kernel_dump *kd, dt_symbolizer *sym)
{
    kernel_hooks kh = { kd, { 0 } };
    dt_symbol_hooks hctx;
    memset(&hctx, 0, sizeof hctx);
    if (sym)
        dt_symbol_hooks_init(&hctx, &kh.inner, sym, &kd->as);
    dt_stackwalk_hooks hooks = { 0 };
    hooks.ctx = &kh;
    hooks.image_file = kh_image;
    if (kh.inner.cfi_unwind)
        hooks.cfi_unwind = kh_cfi;
    if (kh.inner.has_function)
        hooks.has_function = kh_has_function;
    /* One image cache for every thread and both passes: a dump has many
     * threads but few drivers, and each image is looked for once. */
    dt_stackwalk_cache *cache = dt_stackwalk_cache_new();
    size_t max = kd->options.max_frames ? kd->options.max_frames : DEFAULT_MAX_FRAMES;
    for (size_t i = 0; i < kd->thread_count; i++) {
        dt_kernel_thread *t = &kd->threads[i];
        free(t->frames);
        t->frames = NULL;
        t->frame_count = 0;
        if (t->has_start)
            walk_thread(kd, t, &hooks, cache, max);
    }
    dt_stackwalk_cache_free(cache);
    /* Modules on some stack learn where their symbols came from. */
    for (size_t m = 0; sym && m < kd->drivers.count; m++) {
        dt_module *d = &kd->drivers.items[m];
        bool used = false;
        for (size_t i = 0; i < kd->thread_count && !used; i++)
            for (size_t k = 0; k < kd->threads[i].frame_count && !used; k++)
                used = kd->threads[i].frames[k].ip - d->base < d->size;
        if (used)
            dt_symbolizer_annotate(sym, d, &kd->as);
    }
    dt_symbol_hooks_free(&hctx);
}
