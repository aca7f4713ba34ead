/*
 * walker_hooks.c — adapters from dt_stackwalk_hooks callbacks (module +
 * module-relative address, dt_cfi_frame_info) to the symbolizer's calls.
 */
#include "symbols/walker_hooks.h"

#include <string.h>

static bool hook_cfi_unwind_ex(void *ctx, const dt_module *m, uint64_t rva, const dt_cpu_context *callee,
                               const dt_addrspace *as, dt_cfi_frame_info *info, dt_cpu_context *caller)
{
    dt_breakpad_unwind_env env = { as, info->is_code, info->is_code_ctx, info->callee_param_size,
                                   info->context_frame };
    bool scanned = false;
    uint32_t param_size = 0;
    if (!dt_symbolizer_cfi_unwind(ctx, m, m->base + rva, callee, &env, caller, &scanned, &param_size))
        return false;
    info->scanned = scanned;
    info->param_size = param_size;
    return true;
}

static bool hook_image_file(void *ctx, const dt_module *m, dt_view *pe_file)
{
    return dt_symbolizer_image_file(ctx, m, pe_file);
}

static bool hook_has_function(void *ctx, const dt_module *m, uint64_t rva)
{
    return dt_symbolizer_has_function(ctx, m, NULL, m->base + rva);
}

void dt_symbolizer_walker_hooks(dt_symbolizer *s, dt_stackwalk_hooks *hooks)
{
    memset(hooks, 0, sizeof *hooks);
    hooks->ctx = s;
    hooks->cfi_unwind_ex = hook_cfi_unwind_ex;
    hooks->image_file = hook_image_file;
    hooks->has_function = hook_has_function;
}
