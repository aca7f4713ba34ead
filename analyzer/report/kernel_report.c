/*
 * kernel_report.c — dt_kernel_dump → JSON, and JSON → text.
 *
 * The text form is rendered from the JSON, not from the model, so the two
 * can never disagree and the server can re-render stored reports.
 */
#include "report/kernel_report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/pdb.h"
#include "report/frames_json.h"
#include "unwind/symbol_hooks.h"
#include "unwind/stackwalk.h"

static void add_hex(cJSON *o, const char *k, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%" PRIx64, v);
    cJSON_AddStringToObject(o, k, b);
}

static void add_hex_or_null(cJSON *o, const char *k, uint64_t v)
{
    if (v)
        add_hex(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_int_or_null(cJSON *o, const char *k, int64_t v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(o, k, (double)v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_str_or_null(cJSON *o, const char *k, const char *s)
{
    if (s && *s)
        cJSON_AddStringToObject(o, k, s);
    else
        cJSON_AddNullToObject(o, k);
}

/* FILETIME (100 ns since 1601) → ISO 8601 UTC. */
static void filetime_str(uint64_t ft, char *out, size_t cap)
{
    const uint64_t epoch_diff = UINT64_C(116444736000000000);
    if (ft < epoch_diff) {
        snprintf(out, cap, "%s", "");
        return;
    }
    uint64_t t100 = ft - epoch_diff;
    time_t secs = (time_t)(t100 / 10000000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        out[0] = 0;
        return;
    }
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)((t100 / 10000) % 1000));
}

static void uptime_str(uint64_t t100, char *out, size_t cap)
{
    uint64_t ms = t100 / 10000;
    uint64_t s = ms / 1000;
    snprintf(out, cap, "%" PRIu64 " days %02u:%02u:%02u.%03u", s / 86400, (unsigned)(s / 3600 % 24),
             (unsigned)(s / 60 % 60), (unsigned)(s % 60), (unsigned)(ms % 1000));
}

static cJSON *frames_json(const dt_kernel_dump *kd, const dt_kernel_thread *t, dt_symbolizer *sym)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < t->frame_count; i++) {
        const dt_kernel_frame *f = &t->frames[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddNumberToObject(o, "frame", (double)i);
        add_hex(o, "ip", f->ip);
        add_hex(o, "sp", f->sp);
        cJSON_AddStringToObject(o, "trust", f->trust);
        const dt_module *m = dt_module_list_find(&kd->drivers, f->ip);
        if (m) {
            char name[128];
            dt_kernel_module_short_name(m, name, sizeof name);
            cJSON_AddStringToObject(o, "module", name);
            add_str_or_null(o, "module_file", m->code_file);
            add_hex(o, "module_offset", f->ip - m->base);
        } else {
            cJSON_AddNullToObject(o, "module");
            cJSON_AddNullToObject(o, "module_file");
            cJSON_AddNullToObject(o, "module_offset");
        }
        /* Caller frames are looked up at ip - 1 (the call, not the next
         * instruction), the offset is then reported from ip again. */
        dt_symbol symb = { 0 };
        uint64_t at = i && f->ip ? f->ip - 1 : f->ip;
        if (sym && m && dt_symbolizer_lookup(sym, m, &kd->as, at, &symb) && symb.function) {
            cJSON_AddStringToObject(o, "function", symb.function);
            add_hex(o, "function_offset", symb.function_offset + (f->ip - at));
        } else {
            cJSON_AddNullToObject(o, "function");
            cJSON_AddNullToObject(o, "function_offset");
        }
        dt_symbol_clear(&symb);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *thread_json(const dt_kernel_dump *kd, const dt_kernel_thread *t, dt_symbolizer *sym)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (t->has_cid) {
        cJSON_AddNumberToObject(o, "pid", (double)t->pid);
        cJSON_AddNumberToObject(o, "tid", (double)t->tid);
    } else {
        cJSON_AddNullToObject(o, "pid");
        cJSON_AddNullToObject(o, "tid");
    }
    add_str_or_null(o, "image", t->image);
    add_hex_or_null(o, "ethread", t->ethread);
    add_hex_or_null(o, "eprocess", t->eprocess);
    add_str_or_null(o, "label", t->label);
    cJSON_AddStringToObject(o, "origin", t->origin ? t->origin : "unknown");
    add_int_or_null(o, "cpu", t->cpu);
    cJSON_AddBoolToObject(o, "current", t->is_current);
    char nb[32];
    const char *sn = dt_kernel_thread_state_name(t->state);
    if (!sn && t->state >= 0) {
        snprintf(nb, sizeof nb, "State%d", t->state);
        sn = nb;
    }
    add_str_or_null(o, "state", sn);
    add_int_or_null(o, "state_code", t->state);
    const char *wn = dt_kernel_wait_reason_name(t->wait_reason);
    if (!wn && t->wait_reason >= 0) {
        snprintf(nb, sizeof nb, "WaitReason%d", t->wait_reason);
        wn = nb;
    }
    add_str_or_null(o, "wait_reason", wn);
    add_int_or_null(o, "wait_reason_code", t->wait_reason);
    if (t->wait_mode == 0 || t->wait_mode == 1)
        cJSON_AddStringToObject(o, "wait_mode", t->wait_mode ? "UserMode" : "KernelMode");
    else
        cJSON_AddNullToObject(o, "wait_mode");
    if (t->alertable >= 0)
        cJSON_AddBoolToObject(o, "alertable", t->alertable);
    else
        cJSON_AddNullToObject(o, "alertable");
    add_int_or_null(o, "wait_time", t->wait_time);
    add_int_or_null(o, "wait_ticks", t->wait_ticks);
    if (t->wait_ticks >= 0)
        cJSON_AddNumberToObject(o, "wait_seconds", (double)t->wait_ticks * kd->tick_ms / 1000.0);
    else
        cJSON_AddNullToObject(o, "wait_seconds");
    cJSON *wos = cJSON_AddArrayToObject(o, "wait_objects");
    for (size_t i = 0; wos && i < t->wait_object_count; i++) {
        const dt_kernel_wait_object *w = &t->wait_objects[i];
        cJSON *wo = cJSON_CreateObject();
        if (!wo)
            break;
        add_hex(wo, "object", w->object);
        add_str_or_null(wo, "type", dt_kernel_object_type_name(w->type));
        if (w->has_owner) {
            cJSON_AddNumberToObject(wo, "owner_thread_id", (double)w->owner_tid);
            add_hex(wo, "owner_ethread", w->owner_ethread);
        }
        if (w->has_target)
            cJSON_AddNumberToObject(wo, "thread_id", (double)w->target_tid);
        cJSON_AddItemToArray(wos, wo);
    }
    add_int_or_null(o, "kernel_time", t->kernel_time);
    add_int_or_null(o, "user_time", t->user_time);
    add_hex_or_null(o, "wait_block_list", t->wait_block_list);
    char ts[48];
    filetime_str(t->create_time, ts, sizeof ts);
    add_str_or_null(o, "create_time", ts);
    add_hex_or_null(o, "stack_base", t->stack_base);
    add_hex_or_null(o, "stack_limit", t->stack_limit);
    add_hex_or_null(o, "initial_stack", t->initial_stack);
    add_hex_or_null(o, "kernel_stack", t->kernel_stack);
    add_hex_or_null(o, "win32_start_address", t->win32_start_address);
    add_hex_or_null(o, "teb", t->teb);
    add_str_or_null(o, "start_source", t->start_source);
    cJSON_AddItemToObject(o, "frames", frames_json(kd, t, sym));
    return o;
}

cJSON *dt_kernel_report(const dt_kernel_dump *kd)
{
    return dt_kernel_report_symbolized(kd, NULL);
}

cJSON *dt_kernel_report_symbolized(const dt_kernel_dump *kd, dt_symbolizer *sym)
{
    const dt_kdump *h = &kd->header;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    char buf[64];

    cJSON *bc = cJSON_AddObjectToObject(root, "bugcheck");
    snprintf(buf, sizeof buf, "0x%08x", h->bugcheck_code);
    cJSON_AddStringToObject(bc, "code", buf);
    add_str_or_null(bc, "name", dt_bugcheck_name(h->bugcheck_code));
    cJSON *params = cJSON_AddArrayToObject(bc, "parameters");
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "0x%" PRIx64, h->bugcheck_params[i]);
        cJSON_AddItemToArray(params, cJSON_CreateString(buf));
    }

    cJSON *sys = cJSON_AddObjectToObject(root, "system");
    cJSON_AddNumberToObject(sys, "build", h->build);
    cJSON_AddNumberToObject(sys, "major_version", h->major_version);
    cJSON_AddStringToObject(sys, "machine", dt_cpu_arch_name(h->arch));
    snprintf(buf, sizeof buf, "0x%x", h->machine);
    cJSON_AddStringToObject(sys, "machine_type", buf);
    cJSON_AddNumberToObject(sys, "processors", h->processors);
    filetime_str(h->system_time, buf, sizeof buf);
    add_str_or_null(sys, "system_time", buf);
    if (h->system_uptime) {
        uptime_str(h->system_uptime, buf, sizeof buf);
        cJSON_AddStringToObject(sys, "uptime", buf);
        cJSON_AddNumberToObject(sys, "uptime_seconds", (double)(h->system_uptime / 10000000));
    } else {
        cJSON_AddNullToObject(sys, "uptime");
        cJSON_AddNullToObject(sys, "uptime_seconds");
    }
    add_int_or_null(sys, "tick_count", kd->tick_count);
    cJSON_AddNumberToObject(sys, "product_type", h->product_type);
    snprintf(buf, sizeof buf, "0x%x", h->suite_mask);
    cJSON_AddStringToObject(sys, "suite_mask", buf);

    cJSON *d = cJSON_AddObjectToObject(root, "dump");
    cJSON_AddNumberToObject(d, "type", h->dump_type);
    cJSON_AddStringToObject(d, "type_name", dt_kdump_type_name(h->dump_type));
    cJSON_AddBoolToObject(d, "is64", h->is64);
    cJSON_AddNumberToObject(d, "size", (double)h->file_size);
    cJSON_AddBoolToObject(d, "truncated", h->truncated);
    if (h->expected_size)
        cJSON_AddNumberToObject(d, "expected_size", (double)h->expected_size);
    else
        cJSON_AddNullToObject(d, "expected_size");
    cJSON_AddBoolToObject(d, "live_dump", h->has_attributes && (h->attributes & 0x10));
    add_str_or_null(d, "comment", h->comment);
    add_hex_or_null(d, "directory_table_base", h->directory_table_base);
    add_hex_or_null(d, "kd_debugger_data_block", h->kd_debugger_data_block);
    add_hex_or_null(d, "ps_loaded_module_list", h->ps_loaded_module_list);
    add_hex_or_null(d, "ps_active_process_head", h->ps_active_process_head);
    cJSON_AddBoolToObject(d, "kdbg_encoded", kd->kdbg_encoded);
    const char *layout = h->phys_kind == DT_KDUMP_PHYS_RUNS     ? "runs"
                         : h->phys_kind == DT_KDUMP_PHYS_BITMAP ? "bitmap"
                         : kd->is_triage                        ? "triage_blocks"
                                                                : "none";
    cJSON_AddStringToObject(d, "memory_layout", layout);
    if (h->phys_kind != DT_KDUMP_PHYS_NONE) {
        cJSON_AddNumberToObject(d, "physical_pages", (double)h->pages_claimed);
        cJSON_AddNumberToObject(d, "physical_pages_in_file", (double)h->pages_in_file);
    }
    if (h->phys_kind == DT_KDUMP_PHYS_RUNS) {
        cJSON *runs = cJSON_AddArrayToObject(d, "physical_runs");
        for (size_t i = 0; i < h->run_count; i++) {
            cJSON *r = cJSON_CreateObject();
            add_hex(r, "base_page", h->runs[i].base_page);
            cJSON_AddNumberToObject(r, "page_count", (double)h->runs[i].page_count);
            cJSON_AddItemToArray(runs, r);
        }
    }
    if (h->bitmap_signature[0])
        cJSON_AddStringToObject(d, "bitmap_signature", h->bitmap_signature);
    if (kd->is_triage) {
        cJSON_AddNumberToObject(d, "data_blocks", (double)kd->triage.block_count);
        add_hex_or_null(d, "top_of_stack", kd->triage.top_of_stack);
    }

    cJSON *ex = cJSON_AddObjectToObject(root, "exception");
    snprintf(buf, sizeof buf, "0x%08x", h->exception_code);
    cJSON_AddStringToObject(ex, "code", buf);
    add_hex(ex, "address", h->exception_address);

    cJSON *off = cJSON_AddObjectToObject(root, "offsets");
    cJSON_AddStringToObject(off, "source", kd->offsets.source ? kd->offsets.source : "unknown");
    add_str_or_null(off, "layout", kd->offsets.table_name);

    cJSON *drv = cJSON_AddArrayToObject(root, "drivers");
    for (size_t i = 0; i < kd->drivers.count; i++) {
        const dt_module *m = &kd->drivers.items[i];
        cJSON *o = cJSON_CreateObject();
        add_hex(o, "base_addr", m->base);
        add_hex(o, "end_addr", m->base + m->size);
        add_str_or_null(o, "filename", m->code_file);
        char name[128];
        cJSON_AddStringToObject(o, "name", dt_kernel_module_short_name(m, name, sizeof name));
        add_str_or_null(o, "path", m->path);
        add_str_or_null(o, "code_id", m->code_id);
        add_str_or_null(o, "debug_file", m->debug_file);
        add_str_or_null(o, "debug_id", m->debug_id);
        add_str_or_null(o, "symbol_source", m->symbol_source);
        snprintf(buf, sizeof buf, "0x%08x", m->time_date_stamp);
        cJSON_AddStringToObject(o, "timestamp", buf);
        snprintf(buf, sizeof buf, "0x%x", m->checksum);
        cJSON_AddStringToObject(o, "checksum", buf);
        cJSON_AddItemToArray(drv, o);
    }
    cJSON *un = cJSON_AddArrayToObject(root, "unloaded_drivers");
    for (size_t i = 0; i < kd->unloaded_count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "filename", kd->unloaded[i].name);
        add_hex(o, "base_addr", kd->unloaded[i].start);
        add_hex(o, "end_addr", kd->unloaded[i].end);
        cJSON_AddItemToArray(un, o);
    }
    cJSON *procs = cJSON_AddArrayToObject(root, "processes");
    for (size_t i = 0; i < kd->process_count; i++) {
        const dt_kernel_process *p = &kd->processes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "pid", (double)p->pid);
        add_str_or_null(o, "image", p->image);
        add_hex(o, "eprocess", p->eprocess);
        filetime_str(p->create_time, buf, sizeof buf);
        add_str_or_null(o, "create_time", buf);
        cJSON_AddNumberToObject(o, "parent_pid", (double)p->parent_pid);
        add_hex_or_null(o, "directory_table_base", p->directory_table_base);
        add_hex_or_null(o, "peb", p->peb);
        cJSON_AddNumberToObject(o, "thread_count", (double)p->thread_count);
        cJSON_AddItemToArray(procs, o);
    }
    cJSON *thr = cJSON_AddArrayToObject(root, "threads");
    for (size_t i = 0; i < kd->thread_count; i++)
        cJSON_AddItemToArray(thr, thread_json(kd, &kd->threads[i], sym));
    cJSON *w = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < kd->warnings.count; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(kd->warnings.items[i]));
    return root;
}

/* ---- walking with the generic walker ---- */

typedef struct {
    const dt_kernel_dump *kd;
} image_hook_ctx;

static bool kd_image_file(void *ctx, const dt_module *m, dt_view *out)
{
    const image_hook_ctx *c = ctx;
    return c->kd->options.image_file(c->kd->options.image_file_ctx, m, out);
}

static bool frame_unwound(dt_frame_trust t)
{
    return t == DT_TRUST_CFI || t == DT_TRUST_FRAME_POINTER || t == DT_TRUST_CFI_SCAN;
}

void dt_kernel_walk_stacks_ex(dt_kernel_dump *kd, dt_symbolizer *sym)
{
    dt_stackwalk_hooks hooks = { 0 };
    image_hook_ctx ictx = { kd };
    dt_symbol_hooks hctx;
    memset(&hctx, 0, sizeof hctx);
    if (sym) {
        dt_symbol_hooks_init(&hctx, &hooks, sym, &kd->as);
    } else if (kd->options.image_file) {
        hooks.ctx = &ictx;
        hooks.image_file = kd_image_file;
    }
    size_t max = kd->options.max_frames ? kd->options.max_frames : 256;
    for (size_t i = 0; i < kd->thread_count; i++) {
        dt_kernel_thread *t = &kd->threads[i];
        if (!t->has_start || !t->frame_count)
            continue;
        dt_stackwalk_input in = { 0 };
        in.arch = t->start.arch;
        in.start = &t->start;
        in.memory = &kd->as;
        in.modules = &kd->drivers;
        uint64_t sp = t->frames[0].sp;
        if (t->stack_limit && t->stack_base && sp >= t->stack_limit && sp < t->stack_base) {
            in.stack_low = t->stack_limit;
            in.stack_high = t->stack_base;
        }
        in.hooks = &hooks;
        in.max_frames = max;
        dt_stack st;
        if (dt_stackwalk(&in, &st, NULL) != DT_OK)
            continue;
        /* Keep the walker's frames while they are unwound (not guessed);
         * past them, the model's frames (whole-stack scan, FP chain) that
         * lie deeper on the stack. */
        size_t keep = 1;
        while (keep < st.count && frame_unwound(st.frames[keep].trust))
            keep++;
        if (keep > 1) {
            uint64_t last_sp = st.frames[keep - 1].sp;
            size_t tail = 0;
            for (size_t k = 1; k < t->frame_count; k++)
                if (t->frames[k].sp > last_sp)
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
                for (size_t k = 1; k < t->frame_count && w < n; k++)
                    if (t->frames[k].sp > last_sp)
                        nf[w++] = t->frames[k];
                free(t->frames);
                t->frames = nf;
                t->frame_count = w;
            }
        }
        dt_stack_free(&st);
    }
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

static bool symbolizer_image_file(void *ctx, const dt_module *m, dt_view *out)
{
    return dt_symbolizer_image_file(ctx, m, out);
}

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
        cJSON *frames = dt_report_frames(&st, sym, &kd->as);
        if (frames)
            cJSON_AddItemToObject(bc, "context_frames", frames);
        dt_stack_free(&st);
    }
    dt_symbol_hooks_free(&hctx);
}

cJSON *dt_kernel_analyze_view_symbolized(dt_view file, const dt_kernel_options *opts, dt_symbolizer *sym,
                                         dt_error *err)
{
    dt_kernel_options o = { 0 };
    if (opts)
        o = *opts;
    /* The model's scan also wants driver images the dump lacks. */
    if (sym && !o.image_file) {
        o.image_file = symbolizer_image_file;
        o.image_file_ctx = sym;
    }
    dt_kernel_dump kd;
    if (dt_kernel_dump_open(file, &o, &kd, err) != DT_OK) {
        dt_kernel_dump_close(&kd);
        return NULL;
    }
    /* With symbols, the kernel image's own PDB knows every structure
     * layout: when one is found for ntoskrnl, open again with its type
     * information first in line (model/kernel_offsets.h), so builds missing
     * from the built-in table still get ids, names and wait facts. */
    if (sym && !o.field_offset && kd.drivers.count) {
        const dt_module *nt = &kd.drivers.items[0];
        for (size_t i = 0; i < kd.drivers.count; i++)
            if (kd.drivers.items[i].code_file && strncasecmp(kd.drivers.items[i].code_file, "ntoskrnl", 8) == 0)
                nt = &kd.drivers.items[i];
        dt_symbolizer_annotate(sym, (dt_module *)nt, &kd.as);
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
    dt_kernel_walk_stacks_ex(&kd, sym);
    cJSON *r = dt_kernel_report_symbolized(&kd, sym);
    if (r)
        add_bugcheck_context_stack(&kd, sym, r);
    dt_kernel_dump_close(&kd);
    if (!r)
        dt_error_set(err, DT_ERR_NOMEM, "out of memory building the kernel report");
    return r;
}

cJSON *dt_kernel_analyze_view(dt_view file, const dt_kernel_options *opts, dt_error *err)
{
    return dt_kernel_analyze_view_symbolized(file, opts, NULL, err);
}

/* ---- text ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...)
{
    if (s->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t ncap = (s->cap ? s->cap * 2 : 4096);
        while (ncap < s->len + (size_t)n + 1)
            ncap *= 2;
        char *nb = realloc(s->buf, ncap);
        if (!nb) {
            s->oom = true;
            va_end(ap2);
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap2);
    va_end(ap2);
    s->len += (size_t)n;
}

static const char *js(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static double jn(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}
static const char *or(const char *s, const char *d) { return s ? s : d; }
/* Numbers from a stored (possibly foreign) report, clamped before casting. */
static long long ji(const cJSON *o, const char *k)
{
    double v = jn(o, k, 0);
    if (!(v >= -9e18 && v <= 9e18))
        return 0;
    return (long long)v;
}

/* "0xfffff8047bdf5a80" → "fffff804`7bdf5a80" as WinDbg prints pointers. */
static const char *windbg_ptr(const char *hex, char *out, size_t cap)
{
    if (!hex || strncmp(hex, "0x", 2) != 0) {
        snprintf(out, cap, "%s", "????????`????????");
        return out;
    }
    unsigned long long v = strtoull(hex + 2, NULL, 16);
    snprintf(out, cap, "%08llx`%08llx", v >> 32, v & 0xffffffffULL);
    return out;
}

char *dt_kernel_report_text(const cJSON *k)
{
    sbuf s = { 0 };
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(k, "bugcheck");
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(k, "system");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(k, "dump");
    sb_printf(&s, "Kernel dump: %s (type %lld)%s, build %lld, %s, %lld processors\n", or(js(d, "type_name"), "?"),
              ji(d, "type"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "truncated")) ? ", TRUNCATED" : "",
              ji(sys, "build"), or(js(sys, "machine"), "?"), ji(sys, "processors"));
    sb_printf(&s, "Debug session time: %s\nSystem Uptime: %s\n", or(js(sys, "system_time"), "unknown"),
              or(js(sys, "uptime"), "unknown"));
    sb_printf(&s, "\nBugCheck %s, {", or(js(bc, "code"), "?"));
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(bc, "parameters"))
        sb_printf(&s, "%s%s", i++ ? ", " : "", cJSON_IsString(p) ? p->valuestring : "?");
    sb_printf(&s, "}\n%s\n", or(js(bc, "name"), "(unknown bugcheck name)"));
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(bc, "context_frames");
    if (cJSON_GetArraySize(cf) > 0) {
        sb_printf(&s, "\nStack at the faulting context (.cxr):\n");
        const cJSON *f;
        cJSON_ArrayForEach(f, cf) {
            const char *fn = js(f, "function"), *mod = js(f, "module"), *trust = js(f, "trust");
            const char *scan = trust && strcmp(trust, "scan") == 0 ? "   [scan]" : "";
            if (fn)
                sb_printf(&s, "  %02llx %s!%s+%s%s\n", ji(f, "frame"), or(mod, "?"), fn, or(js(f, "function_offset"), "0x0"),
                          scan);
            else
                sb_printf(&s, "  %02llx %s+%s%s\n", ji(f, "frame"), or(mod, "?"), or(js(f, "module_offset"), "?"), scan);
        }
    }

    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(k, "processes");
    cJSON_ArrayForEach(p, procs) {
        char b[32];
        sb_printf(&s, "\nPROCESS %s\n    Cid: %04llx    Image: %s    Threads: %lld\n",
                  windbg_ptr(js(p, "eprocess"), b, sizeof b), ji(p, "pid"), or(js(p, "image"), "?"),
                  ji(p, "thread_count"));
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(k, "threads")) {
        char b[32], b2[32], b3[32];
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(t, "pid");
        if (cJSON_IsNumber(pid))
            sb_printf(&s, "\nTHREAD %s  Cid %04llx.%04llx  Image: %s", windbg_ptr(js(t, "ethread"), b, sizeof b),
                      ji(t, "pid"), ji(t, "tid"), or(js(t, "image"), "?"));
        else
            sb_printf(&s, "\nTHREAD %s  %s", js(t, "ethread") ? windbg_ptr(js(t, "ethread"), b, sizeof b) : "(not in dump)",
                      or(js(t, "label"), "(unidentified)"));
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(t, "cpu");
        if (cJSON_IsNumber(cpu))
            sb_printf(&s, "  RUNNING on processor %lld", ji(t, "cpu"));
        else if (js(t, "state"))
            sb_printf(&s, "  %s", js(t, "state"));
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "current")))
            sb_printf(&s, "  (current thread)");
        sb_printf(&s, "\n");
        if (js(t, "wait_reason"))
            sb_printf(&s, "    WaitReason: %s  WaitMode: %s  Alertable: %s  WaitTime(ticks): %lld\n",
                      js(t, "wait_reason"), or(js(t, "wait_mode"), "?"),
                      cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(t, "alertable"))
                          ? (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "alertable")) ? "yes" : "no")
                          : "?",
                      ji(t, "wait_time"));
        sb_printf(&s, "    Base %s Limit %s Call %s\n", windbg_ptr(js(t, "stack_base"), b, sizeof b),
                  windbg_ptr(js(t, "stack_limit"), b2, sizeof b2), windbg_ptr(js(t, "kernel_stack"), b3, sizeof b3));
        const cJSON *frames = cJSON_GetObjectItemCaseSensitive(t, "frames");
        int n = cJSON_GetArraySize(frames);
        if (n)
            sb_printf(&s, " # Child-SP          RetAddr               Call Site\n");
        for (int f = 0; f < n; f++) {
            const cJSON *fr = cJSON_GetArrayItem(frames, f);
            const cJSON *next = f + 1 < n ? cJSON_GetArrayItem(frames, f + 1) : NULL;
            char site[160];
            if (js(fr, "module") && js(fr, "function"))
                snprintf(site, sizeof site, "%s!%s+%s", js(fr, "module"), js(fr, "function"),
                         or(js(fr, "function_offset"), "0x0"));
            else if (js(fr, "module"))
                snprintf(site, sizeof site, "%s+%s", js(fr, "module"), or(js(fr, "module_offset"), "?"));
            else
                snprintf(site, sizeof site, "%s", or(js(fr, "ip"), "?"));
            sb_printf(&s, "%02x %s %s     %s%s\n", f, windbg_ptr(js(fr, "sp"), b, sizeof b),
                      next ? windbg_ptr(js(next, "ip"), b2, sizeof b2) : "00000000`00000000", site,
                      strcmp(or(js(fr, "trust"), ""), "scan") == 0 ? "  (scan)" : "");
        }
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(k, "warnings");
    if (cJSON_GetArraySize(w)) {
        sb_printf(&s, "\nWarnings:\n");
        cJSON_ArrayForEach(p, w) sb_printf(&s, "  %s\n", cJSON_IsString(p) ? p->valuestring : "?");
    }
    if (s.oom) {
        free(s.buf);
        return NULL;
    }
    if (!s.buf)
        return strdup("");
    return s.buf;
}
