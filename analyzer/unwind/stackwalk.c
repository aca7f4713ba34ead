/*
 * stackwalk.c — the architecture-neutral walk loop and the per-walk image
 * cache (see stackwalk.h and walker.h).
 *
 * The loop owns every rule that protects the output from bad data, so the
 * per-architecture unwinders only answer "what are the caller's registers":
 * a caller is accepted only with a non-zero IP inside some module (when
 * modules are known), a stack pointer that grew (a machine frame may switch
 * stacks), a position inside the stack bounds, and an (ip, sp) pair not seen
 * before.  The first rule that fails ends the walk and is named in
 * stop_reason.
 */
#include "unwind/stackwalk.h"

#include <stdlib.h>
#include <string.h>

#include "unwind/unwind_amd64.h"
#include "unwind/unwind_arm64.h"
#include "unwind/unwind_x86.h"
#include "unwind/walker.h"

const char *dt_frame_trust_name(dt_frame_trust t)
{
    switch (t) {
    case DT_TRUST_CONTEXT: return "context";
    case DT_TRUST_CFI: return "cfi";
    case DT_TRUST_FRAME_POINTER: return "frame_pointer";
    case DT_TRUST_CFI_SCAN: return "cfi_scan";
    case DT_TRUST_SCAN: return "scan";
    default: return "none";
    }
}

/* ---- services for the unwinders ------------------------------------------------ */

const dt_module *dt_walker_module(const dt_walker *w, uint64_t addr)
{
    if (!w->in->modules || !w->in->modules->count)
        return NULL;
    return dt_module_list_find(w->in->modules, addr);
}

static bool image_has_unwind_data(const dt_pe *pe)
{
    dt_pe_runtime_function rf;
    dt_pe_arm64_function af;
    if (pe->machine == DT_PE_MACHINE_AMD64) {
        size_t n = dt_pe_pdata_count(pe);
        return n && dt_pe_pdata_get(pe, 0, &rf) && dt_pe_pdata_get(pe, n - 1, &rf);
    }
    if (pe->machine == DT_PE_MACHINE_ARM64) {
        size_t n = dt_pe_arm64_pdata_count(pe);
        return n && dt_pe_arm64_pdata_get(pe, 0, &af) && dt_pe_arm64_pdata_get(pe, n - 1, &af);
    }
    return true; /* x86: the image serves only its section table */
}

static void cache_clear(dt_stackwalk_cache *c)
{
    for (size_t i = 0; c->images && i < c->count; i++)
        if (c->images[i].ok)
            dt_pe_close(&c->images[i].pe);
    free(c->images);
    c->images = NULL;
    c->count = 0;
}

dt_stackwalk_cache *dt_stackwalk_cache_new(void)
{
    return calloc(1, sizeof(dt_stackwalk_cache));
}

void dt_stackwalk_cache_free(dt_stackwalk_cache *c)
{
    if (!c)
        return;
    cache_clear(c);
    free(c);
}

/* Empties the cache when it was filled for other inputs. */
static void cache_bind(dt_stackwalk_cache *c, const dt_stackwalk_input *in)
{
    size_t count = in->modules ? in->modules->count : 0;
    if (c->modules != in->modules || c->memory != in->memory || c->hooks != in->hooks ||
        c->count != count || (in->modules && c->images && c->modules->items != in->modules->items))
        cache_clear(c);
    c->modules = in->modules;
    c->memory = in->memory;
    c->hooks = in->hooks;
}

void dt_walker_init(dt_walker *w, const dt_stackwalk_input *in, dt_stackwalk_cache *cache)
{
    memset(w, 0, sizeof *w);
    w->in = in;
    w->cache = cache;
    cache_bind(cache, in);
}

const dt_pe *dt_walker_image(dt_walker *w, const dt_module *m)
{
    const dt_module_list *list = w->in->modules;
    if (!m || !list || m < list->items || m >= list->items + list->count)
        return NULL;
    dt_stackwalk_cache *c = w->cache;
    if (!c->images) {
        c->images = calloc(list->count, sizeof *c->images);
        if (!c->images)
            return NULL;
        c->count = list->count;
    }
    dt_walker_image_slot *slot = &c->images[m - list->items];
    if (slot->tried)
        return slot->ok ? &slot->pe : NULL;
    slot->tried = true;
    /* The mapped image is the ground truth of what ran; a file is second. */
    bool mapped_ok = dt_pe_open_mapped(&slot->pe, w->in->memory, m->base, NULL) == DT_OK;
    if (mapped_ok && image_has_unwind_data(&slot->pe)) {
        slot->ok = true;
        return &slot->pe;
    }
    const dt_stackwalk_hooks *h = w->in->hooks;
    dt_view file;
    if (h && h->image_file && h->image_file(h->ctx, m, &file)) {
        dt_pe fpe;
        if (dt_pe_open_file(&fpe, file, NULL) == DT_OK) {
            if (image_has_unwind_data(&fpe)) {
                if (mapped_ok)
                    dt_pe_close(&slot->pe);
                slot->pe = fpe;
                slot->ok = true;
                return &slot->pe;
            }
            dt_pe_close(&fpe);
        }
    }
    if (mapped_ok) {
        slot->ok = true; /* headers only: still tells code from data */
        return &slot->pe;
    }
    return NULL;
}

bool dt_walker_read_ptr(const dt_walker *w, uint64_t va, uint64_t *out)
{
    if (w->in->arch == DT_ARCH_X86) {
        uint32_t v;
        if (!dt_as_u32(w->in->memory, va, &v))
            return false;
        *out = v;
        return true;
    }
    return dt_as_u64(w->in->memory, va, out);
}

size_t dt_walker_read_code(dt_walker *w, uint64_t addr, uint8_t *buf, size_t len)
{
    size_t got = dt_as_read(w->in->memory, addr, buf, len);
    if (got == len)
        return got;
    const dt_module *m = dt_walker_module(w, addr);
    const dt_pe *pe = m ? dt_walker_image(w, m) : NULL;
    if (!pe || pe->mapped || addr - m->base > UINT32_MAX)
        return got;
    return dt_pe_read(pe, (uint32_t)(addr - m->base), buf, len);
}

bool dt_walker_is_code(dt_walker *w, uint64_t addr)
{
    const dt_module *m = dt_walker_module(w, addr);
    if (!m) {
        /* generated code counts when a dynamic function table describes it
         * (an executable region alone is too weak for scanned words) */
        const dt_generated_code *g = w->in->generated;
        return g && g->tables && dt_md_function_table_for(g->tables, addr);
    }
    const dt_pe *pe = dt_walker_image(w, m);
    uint64_t rva = addr - m->base;
    if (pe && pe->section_count) {
        if (rva > UINT32_MAX || !dt_pe_rva_is_code(pe, (uint32_t)rva))
            return false;
    } else if (rva < 0x1000) {
        /* Without the section table, the headers page is still never code
         * (section alignment is at least a page): this drops the module
         * base pointers that litter stacks. */
        return false;
    }
    const dt_stackwalk_hooks *h = w->in->hooks;
    if (h && h->has_function && !h->has_function(h->ctx, m, addr - m->base))
        return false;
    return true;
}

static bool is_code_thunk(void *ctx, uint64_t addr)
{
    return dt_walker_is_code(ctx, addr);
}

bool dt_walker_hook_cfi(dt_walker *w, const dt_frame *callee, uint64_t lookup_ip, dt_cpu_context *caller,
                        dt_frame_trust *trust)
{
    const dt_stackwalk_hooks *h = w->in->hooks;
    if (!h || !h->cfi_unwind)
        return false;
    const dt_module *m = dt_walker_module(w, lookup_ip);
    if (!m)
        return false;
    dt_cpu_context out = callee->context;
    dt_cfi_frame_info info = { .context_frame = callee->trust == DT_TRUST_CONTEXT,
                               .callee_param_size = w->callee_param_size,
                               .is_code = is_code_thunk, .is_code_ctx = w };
    if (!h->cfi_unwind(h->ctx, m, lookup_ip - m->base, &callee->context, w->in->memory, &info, &out))
        return false;
    *trust = info.scanned ? DT_TRUST_CFI_SCAN : DT_TRUST_CFI;
    w->next_param_size = info.param_size;
    uint64_t v;
    if (!dt_ctx_get(&out, dt_cpu_context_ip_reg(w->in->arch), &v) ||
        !dt_ctx_get(&out, dt_cpu_context_sp_reg(w->in->arch), &v))
        return false;
    *caller = out;
    return true;
}

uint64_t dt_walker_lookup_ip(const dt_frame *f)
{
    if (f->trust == DT_TRUST_CONTEXT || f->machine_frame || f->ip == 0)
        return f->ip;
    return f->ip - 1;
}

/* ---- the walk ------------------------------------------------------------------ */

static bool is_kernel_address(dt_cpu_arch arch, uint64_t a)
{
    if (arch == DT_ARCH_X86)
        return a >= 0x80000000u;
    return (a >> 63) != 0;
}

static void fill_frame(const dt_walker *w, dt_frame *f, const dt_cpu_context *c, dt_frame_trust trust)
{
    dt_cpu_arch arch = w->in->arch;
    memset(f, 0, sizeof *f);
    f->context = *c;
    f->context.arch = arch;
    dt_ctx_get(c, dt_cpu_context_ip_reg(arch), &f->ip);
    dt_ctx_get(c, dt_cpu_context_sp_reg(arch), &f->sp);
    f->has_fp = dt_ctx_get(c, dt_cpu_context_fp_reg(arch), &f->fp);
    f->trust = trust;
    f->module = dt_walker_module(w, f->ip);
    f->module_offset = f->module ? f->ip - f->module->base : 0;
    const dt_generated_code *g = w->in->generated;
    if (!f->module && g && f->ip) {
        /* a return address points just past its call, which may be the
         * last byte of a table's range: look both up at the call */
        uint64_t at = dt_walker_lookup_ip(f);
        f->region = dt_generated_code_region(g, at);
        f->function_table = g->tables ? dt_md_function_table_for(g->tables, at) : NULL;
        f->generated_code = f->region || f->function_table;
    }
}

const dt_code_region *dt_generated_code_region(const dt_generated_code *g, uint64_t addr)
{
    if (!g || !g->regions)
        return NULL;
    size_t lo = 0, hi = g->nregions;
    while (lo < hi) { /* first region with base > addr */
        size_t mid = lo + (hi - lo) / 2;
        if (g->regions[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const dt_code_region *r = &g->regions[lo - 1];
    return addr - r->base < r->size ? r : NULL;
}

static bool push_frame(dt_stack *s, size_t *cap, const dt_frame *f)
{
    if (s->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        dt_frame *n = realloc(s->frames, ncap * sizeof *n);
        if (!n)
            return false;
        s->frames = n;
        *cap = ncap;
    }
    s->frames[s->count++] = *f;
    return true;
}

static bool step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                 dt_unwind_result *how)
{
    switch (w->in->arch) {
    case DT_ARCH_AMD64: return dt_unwind_amd64_step(w, callee, index, caller, how);
    case DT_ARCH_X86: return dt_unwind_x86_step(w, callee, index, caller, how);
    case DT_ARCH_ARM64: return dt_unwind_arm64_step(w, callee, index, caller, how);
    default: return false;
    }
}

dt_status dt_stackwalk(const dt_stackwalk_input *in, dt_stack *out, dt_error *err)
{
    memset(out, 0, sizeof *out);
    if (!in || !in->start || !in->memory)
        return dt_error_set(err, DT_ERR_ARG, "stackwalk: missing context or memory");
    if (in->arch != DT_ARCH_AMD64 && in->arch != DT_ARCH_X86 && in->arch != DT_ARCH_ARM64)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, "stackwalk: architecture %s not supported",
                            dt_cpu_arch_name(in->arch));
    uint64_t v;
    if (!dt_ctx_get(in->start, dt_cpu_context_ip_reg(in->arch), &v) ||
        !dt_ctx_get(in->start, dt_cpu_context_sp_reg(in->arch), &v))
        return dt_error_set(err, DT_ERR_ARG, "stackwalk: context lacks instruction or stack pointer");
    dt_stackwalk_cache local = { 0 };
    dt_stackwalk_cache *cache = in->cache ? in->cache : &local;
    dt_walker w;
    dt_walker_init(&w, in, cache);
    size_t max = in->max_frames ? in->max_frames : DT_STACKWALK_MAX_FRAMES;
    size_t cap = 0;
    dt_status st = DT_OK;
    dt_frame f;
    fill_frame(&w, &f, in->start, DT_TRUST_CONTEXT);
    if (!push_frame(out, &cap, &f)) {
        st = dt_error_set(err, DT_ERR_NOMEM, "stackwalk: out of memory");
        goto done;
    }
    bool have_modules = in->modules && in->modules->count;
    /* A kernel stack starts in kernel space; on x86 the stack must be there
     * too, since large-address-aware (and WOW64) user code runs above 2 GB. */
    bool kernel_walk = is_kernel_address(in->arch, out->frames[0].ip) &&
                       (in->arch != DT_ARCH_X86 || is_kernel_address(in->arch, out->frames[0].sp));
    out->stop_reason = "frame limit reached";
    while (out->count < max) {
        const dt_frame *callee = &out->frames[out->count - 1];
        dt_cpu_context caller;
        dt_unwind_result how = { DT_TRUST_NONE, false };
        w.next_param_size = 0;
        bool stepped = step(&w, callee, out->count - 1, &caller, &how);
        w.callee_param_size = w.next_param_size;
        if (!stepped) {
            out->stop_reason = "no caller found";
            break;
        }
        caller.arch = in->arch;
        if (in->arch == DT_ARCH_ARM64 && dt_ctx_get(&caller, DT_ARM64_PC, &v))
            dt_ctx_set(&caller, DT_ARM64_PC, dt_arm64_strip_pac(v));
        fill_frame(&w, &f, &caller, how.trust);
        f.machine_frame = how.machine_frame;
        if (f.ip == 0) {
            out->stop_reason = "end of stack (return address 0)";
            break;
        }
        if (kernel_walk && !is_kernel_address(in->arch, f.ip)) {
            out->has_boundary_context = true;
            out->boundary_context = f.context;
            out->stop_reason = "kernel entry from user mode";
            break;
        }
        /* An ARM64 leaf returns through LR without touching the stack. */
        bool same_sp_ok = in->arch == DT_ARCH_ARM64 && callee->trust == DT_TRUST_CONTEXT && f.sp == callee->sp;
        if (!how.machine_frame && f.sp <= callee->sp && !same_sp_ok) {
            out->stop_reason = "stack pointer did not increase";
            break;
        }
        if (!how.machine_frame && in->stack_high && (f.sp < in->stack_low || f.sp > in->stack_high)) {
            out->stop_reason = "stack pointer left the stack";
            break;
        }
        if (have_modules && !f.module && !f.generated_code) {
            out->stop_reason = "return address outside any module";
            break;
        }
        bool seen = false;
        for (size_t i = 0; i < out->count && !seen; i++)
            seen = out->frames[i].ip == f.ip && out->frames[i].sp == f.sp;
        if (seen) {
            out->stop_reason = "frame repeats";
            break;
        }
        if (!push_frame(out, &cap, &f)) {
            st = dt_error_set(err, DT_ERR_NOMEM, "stackwalk: out of memory");
            break;
        }
    }
done:
    if (cache == &local)
        cache_clear(&local);
    if (st != DT_OK)
        dt_stack_free(out);
    return st;
}

void dt_stack_free(dt_stack *s)
{
    free(s->frames);
    memset(s, 0, sizeof *s);
}
