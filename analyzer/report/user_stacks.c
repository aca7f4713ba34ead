/*
 * user_stacks.c — see user_stacks.h.
 */
#include "report/user_stacks.h"

#include "report/frames_json.h"
#include "report/generated_code.h"
#include "unwind/symbol_hooks.h"
#include "base/json.h"
#include "unwind/stackwalk.h"

void dt_user_report_add_stacks(cJSON *user, dt_minidump *md, dt_symbolizer *sym, dt_warnings *w)
{
    const dt_addrspace *as = dt_minidump_addrspace(md);
    dt_stackwalk_hooks hooks = { 0 };
    dt_symbol_hooks hctx;
    if (sym)
        dt_symbol_hooks_init(&hctx, &hooks, sym, as);
    dt_stackwalk_cache *cache = dt_stackwalk_cache_new();
    /* code outside modules: dynamic function tables and executable memory */
    dt_generated_code_info gen;
    dt_generated_code_info_init(&gen, md, w);
    cJSON *threads = cJSON_GetObjectItemCaseSensitive(user, "threads");
    cJSON *t;
    cJSON_ArrayForEach(t, threads)
    {
        uint64_t tid;
        if (!dt_json_u64(t, "thread_id", &tid))
            continue;
        const dt_md_thread *th = dt_minidump_find_thread(md, (uint32_t)tid);
        const dt_cpu_context *ctx = th ? dt_minidump_thread_context(md, th) : NULL;
        if (!ctx)
            continue;
        dt_stackwalk_input in = {
            .arch = md->system.arch,
            .start = ctx,
            .memory = as,
            .modules = &md->modules,
            .stack_low = th->stack_start,
            .stack_high = th->stack_start + th->stack_size,
            .hooks = sym ? &hooks : NULL,
            .warnings = w,
            .cache = cache,
            .generated = &gen.code,
        };
        dt_stack st = { 0 };
        dt_error err = { 0 };
        if (dt_stackwalk(&in, &st, &err) != DT_OK) {
            dt_warn(w, "thread %llu: stack walk failed: %s", (unsigned long long)tid, err.message);
            continue;
        }
        cJSON *frames = dt_report_frames(&st, sym, as, DT_REPORT_USER_NONVOLATILE_FRAMES);
        if (frames) {
            cJSON_ReplaceItemInObjectCaseSensitive(t, "frames", frames);
            cJSON_DeleteItemFromObjectCaseSensitive(t, "stack_stop_reason");
            if (st.stop_reason)
                cJSON_AddStringToObject(t, "stack_stop_reason", st.stop_reason);
        }
        dt_stack_free(&st);
    }
    dt_stackwalk_cache_free(cache);
    dt_generated_code_info_free(&gen);
    if (sym)
        dt_symbol_hooks_free(&hctx);
    dt_report_annotate_modules(cJSON_GetObjectItemCaseSensitive(user, "modules"), &md->modules, sym, as);
}
