/*
 * kernel_analysis.c — the kernel part of an analysis (analysis.h): open the
 * dump, re-open it with the kernel image's own type information when its
 * PDB is found, walk every thread and the faulting context, and build the
 * "kernel" object of the report.
 *
 * This is orchestration only: structure reading lives in model/, walking in
 * unwind/, JSON in report/.
 */
#include "analysis/analysis.h"

#include <string.h>

#include "base/module.h"
#include "formats/pdb.h"
#include "report/frames_json.h"
#include "report/kernel_report.h"
#include "unwind/kernel_stacks.h"
#include "unwind/kernel_stacks.h"
#include "unwind/stackwalk.h"
#include "unwind/symbol_hooks.h"

/* For a real bugcheck the header's context record is the faulting context
 * (for 0x7E/0x1000007E the CONTEXT that parameter 4 points to), not the
 * KeBugCheckEx frame the current thread's stack starts from: walked, it is
 * the stack WinDbg shows after `.cxr`. */
static void add_bugcheck_context_stack(dt_kernel_dump *kd, dt_symbolizer *sym, cJSON *report)
{
    const dt_kdump *h = &kd->header;
    cJSON *bc = cJSON_GetObjectItemCaseSensitive(report, "bugcheck");
    if (!bc || h->bugcheck_code == 0 || !h->context_record.size)
        return;
    dt_cpu_context ctx;
    uint64_t ip;
    if (dt_cpu_context_parse(h->arch, h->context_record, &ctx, NULL) != DT_OK ||
        !dt_ctx_get(&ctx, dt_cpu_context_ip_reg(h->arch), &ip) || !dt_module_list_find(&kd->drivers, ip))
        return;
    dt_stackwalk_hooks hooks = { 0 };
    dt_symbol_hooks hctx;
    memset(&hctx, 0, sizeof hctx);
    if (sym)
        dt_symbol_hooks_init(&hctx, &hooks, sym, &kd->as);
    dt_stackwalk_input in = { .arch = h->arch, .start = &ctx, .memory = &kd->as, .modules = &kd->drivers,
                              .hooks = sym ? &hooks : NULL, .max_frames = 64 };
    dt_stack st;
    if (dt_stackwalk(&in, &st, NULL) == DT_OK) {
        cJSON *frames = dt_report_frames(&st, sym, &kd->as, 0);
        if (frames)
            cJSON_AddItemToObject(bc, "context_frames", frames);
        dt_stack_free(&st);
    }
    dt_symbol_hooks_free(&hctx);
}

/* The kernel image among the drivers: by name (any of its aliases), else
 * the first driver, which the loader list always starts with. */
static dt_module *kernel_image(dt_kernel_dump *kd)
{
    for (size_t i = 0; i < kd->drivers.count; i++)
        if (dt_module_is_kernel_image(kd->drivers.items[i].code_file))
            return &kd->drivers.items[i];
    return &kd->drivers.items[0];
}

cJSON *dt_analyze_kernel_view(dt_view file, const dt_kernel_options *opts, dt_symbolizer *sym, dt_error *err)
{
    dt_kernel_options o = { 0 };
    if (opts)
        o = *opts;
    dt_kernel_dump kd;
    if (dt_kernel_dump_open(file, &o, &kd, err) != DT_OK) {
        dt_kernel_dump_close(&kd);
        return NULL;
    }
    /* With symbols, the kernel image's own PDB knows every structure
     * layout: when one is found, open again with its type information first
     * in line (model/kernel_offsets.h), so builds missing from the built-in
     * table still get ids, names and wait facts.  Opening maps nothing and
     * reads headers, so doing it twice is cheap; the offsets are needed
     * while opening, which is why it cannot be done once. */
    if (sym && !o.field_offset && kd.drivers.count) {
        dt_module *nt = kernel_image(&kd);
        dt_symbolizer_annotate(sym, nt, &kd.as);
        struct dt_pdb *pdb = dt_symbolizer_pdb(sym, nt);
        if (pdb) {
            o.field_offset = dt_pdb_field_offset_fn;
            o.field_offset_ctx = pdb;
            dt_kernel_dump_close(&kd);
            if (dt_kernel_dump_open(file, &o, &kd, err) != DT_OK) {
                dt_kernel_dump_close(&kd);
                return NULL;
            }
        }
    }
    dt_kernel_walk_stacks(&kd, sym);
    cJSON *r = dt_kernel_report(&kd, sym);
    if (r)
        add_bugcheck_context_stack(&kd, sym, r);
    dt_kernel_dump_close(&kd);
    if (!r)
        dt_error_set(err, DT_ERR_NOMEM, "out of memory building the kernel report");
    return r;
}
