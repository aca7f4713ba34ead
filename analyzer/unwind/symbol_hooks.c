/*
 * symbol_hooks.c — adapters from dt_stackwalk_hooks to the symbolizer (see
 * symbol_hooks.h).
 *
 * The only state is a per-module memo of "does this module have function
 * extents", asked once of the symbolizer without touching the module (the
 * walker's modules are const and the report owns their annotations).
 */
#include "unwind/symbol_hooks.h"

#include <stdlib.h>
#include <string.h>

static bool hook_cfi(void *ctx, const dt_module *m, uint64_t rva, const dt_cpu_context *callee,
                     const dt_addrspace *as, dt_cfi_frame_info *info, dt_cpu_context *caller)
{
    dt_symbol_hooks *h = ctx;
    dt_breakpad_unwind_env env = {
        .as = as,
        .is_code = info->is_code,
        .ctx = info->is_code_ctx,
        .callee_param_size = info->callee_param_size,
        .context_frame = info->context_frame,
    };
    bool scanned = false;
    uint32_t param_size = 0;
    if (!dt_symbolizer_cfi_unwind(h->symbolizer, m, m->base + rva, callee, &env, caller, &scanned, &param_size))
        return false;
    info->scanned = scanned;
    info->param_size = param_size;
    return true;
}

static bool hook_image(void *ctx, const dt_module *m, dt_view *out)
{
    dt_symbol_hooks *h = ctx;
    return dt_symbolizer_image_file(h->symbolizer, m, out);
}

static bool module_has_functions(dt_symbol_hooks *h, const dt_module *m)
{
    for (size_t i = 0; i < h->count; i++)
        if (h->memo[i].module == m)
            return h->memo[i].has_functions;
    bool has = dt_symbolizer_has_debug_symbols(h->symbolizer, m, h->memory);
    dt_symbol_hooks_memo *n = realloc(h->memo, (h->count + 1) * sizeof *n);
    if (n) {
        h->memo = n;
        n[h->count].module = m;
        n[h->count].has_functions = has;
        h->count++;
    }
    return has;
}

static bool hook_has_function(void *ctx, const dt_module *m, uint64_t rva)
{
    dt_symbol_hooks *h = ctx;
    if (dt_symbolizer_has_function(h->symbolizer, m, h->memory, m->base + rva))
        return true;
    if (!module_has_functions(h, m))
        return true;
    /* Symbols without extents (a .sym of PUBLIC lines only, PDB publics)
     * still place an address after a named symbol, as Breakpad accepts. */
    dt_symbol sym = { 0 };
    bool named = dt_symbolizer_lookup(h->symbolizer, m, h->memory, m->base + rva, &sym) && sym.function &&
                 !sym.export_only;
    dt_symbol_clear(&sym);
    return named;
}

void dt_symbol_hooks_init(dt_symbol_hooks *ctx, dt_stackwalk_hooks *hooks, dt_symbolizer *s,
                          const dt_addrspace *memory)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->symbolizer = s;
    ctx->memory = memory;
    memset(hooks, 0, sizeof *hooks);
    hooks->ctx = ctx;
    hooks->cfi_unwind = hook_cfi;
    hooks->image_file = hook_image;
    hooks->has_function = hook_has_function;
}

void dt_symbol_hooks_free(dt_symbol_hooks *ctx)
{
    free(ctx->memo);
    memset(ctx, 0, sizeof *ctx);
}
