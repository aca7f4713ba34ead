/*
 * user_report.c — dt_minidump → the "user" JSON object (docs/report.md).
 *
 * Builds, in order: dump header facts, system_info, process, crash_info,
 * threads (with registers and the context frame 0), modules, unloaded
 * modules, handles, memory summary, streams and warnings.  Names follow
 * minidump-stackwalk's JSON where the concept is the same so existing tools
 * read it; additions are documented in docs/report.md.
 */
#include "report/user_report.h"

#include <stdio.h>
#include <string.h>

#include "base/json.h"

/* ---- exception names ---------------------------------------------------- */

const char *dt_exception_name(uint32_t code, const uint64_t *params, uint32_t nparams)
{
    switch (code) {
    case 0xC0000005:
        if (nparams >= 1 && params) {
            if (params[0] == 0) return "EXCEPTION_ACCESS_VIOLATION_READ";
            if (params[0] == 1) return "EXCEPTION_ACCESS_VIOLATION_WRITE";
            if (params[0] == 8) return "EXCEPTION_ACCESS_VIOLATION_EXEC";
        }
        return "EXCEPTION_ACCESS_VIOLATION";
    case 0xC0000006: return "EXCEPTION_IN_PAGE_ERROR";
    case 0x80000001: return "EXCEPTION_GUARD_PAGE";
    case 0x80000002: return "EXCEPTION_DATATYPE_MISALIGNMENT";
    case 0x80000003: return "EXCEPTION_BREAKPOINT";
    case 0x80000004: return "EXCEPTION_SINGLE_STEP";
    case 0x4000001F: return "STATUS_WX86_BREAKPOINT";
    case 0x40010005: return "DBG_CONTROL_C";
    case 0x40010008: return "DBG_CONTROL_BREAK";
    case 0xC0000008: return "EXCEPTION_INVALID_HANDLE";
    case 0xC000000D: return "STATUS_INVALID_PARAMETER";
    case 0xC0000017: return "STATUS_NO_MEMORY";
    case 0xC000001D: return "EXCEPTION_ILLEGAL_INSTRUCTION";
    case 0xC0000025: return "EXCEPTION_NONCONTINUABLE_EXCEPTION";
    case 0xC0000026: return "EXCEPTION_INVALID_DISPOSITION";
    case 0xC000008C: return "EXCEPTION_ARRAY_BOUNDS_EXCEEDED";
    case 0xC000008D: return "EXCEPTION_FLT_DENORMAL_OPERAND";
    case 0xC000008E: return "EXCEPTION_FLT_DIVIDE_BY_ZERO";
    case 0xC000008F: return "EXCEPTION_FLT_INEXACT_RESULT";
    case 0xC0000090: return "EXCEPTION_FLT_INVALID_OPERATION";
    case 0xC0000091: return "EXCEPTION_FLT_OVERFLOW";
    case 0xC0000092: return "EXCEPTION_FLT_STACK_CHECK";
    case 0xC0000093: return "EXCEPTION_FLT_UNDERFLOW";
    case 0xC0000094: return "EXCEPTION_INT_DIVIDE_BY_ZERO";
    case 0xC0000095: return "EXCEPTION_INT_OVERFLOW";
    case 0xC0000096: return "EXCEPTION_PRIV_INSTRUCTION";
    case 0xC00000FD: return "EXCEPTION_STACK_OVERFLOW";
    case 0xC0000194: return "EXCEPTION_POSSIBLE_DEADLOCK";
    case 0xC0000374: return "STATUS_HEAP_CORRUPTION";
    case 0xC0000409: return "STATUS_STACK_BUFFER_OVERRUN";
    case 0xC0000420: return "STATUS_ASSERTION_FAILURE";
    case 0xC0000602: return "STATUS_FAIL_FAST_EXCEPTION";
    case 0xE06D7363: return "EXCEPTION_MSVC_CPP";
    default: return NULL;
    }
}

/* ---- pieces --------------------------------------------------------------- */

static const char *platform_name(uint32_t id)
{
    switch (id) {
    case 0: return "Windows 3.1 (Win32s)";
    case 1: return "Windows 9x";
    case 2: return "Windows NT";
    case 3: return "Windows CE";
    case 0x8000: return "Unix";
    case 0x8101: return "Mac OS X";
    case 0x8102: return "iOS";
    case 0x8201: return "Linux";
    case 0x8202: return "Solaris";
    case 0x8203: return "Android";
    case 0x8205: return "NaCl";
    case 0x8206: return "Fuchsia";
    default: return "unknown";
    }
}

static void add_system_info(cJSON *user, const dt_minidump *md)
{
    const dt_md_system_info *si = &md->system;
    cJSON *o = cJSON_AddObjectToObject(user, "system_info");
    if (!o)
        return;
    char buf[512];
    dt_json_add_str(o, "os", si->present ? platform_name(si->platform_id) : "unknown");
    if (si->present) {
        snprintf(buf, sizeof buf, "%u.%u.%u%s%s", si->major, si->minor, si->build,
                 si->csd_version && *si->csd_version ? " " : "",
                 si->csd_version ? si->csd_version : "");
        dt_json_add_str(o, "os_ver", buf);
    } else {
        dt_json_add_str(o, "os_ver", NULL);
    }
    dt_json_add_str(o, "cpu_arch", dt_cpu_arch_name(md->system.arch));
    if (si->present) {
        /* Breakpad's wording: family = ProcessorLevel, model/stepping from
         * ProcessorRevision's two bytes (x86 family only). */
        if (si->arch == DT_ARCH_X86 || si->arch == DT_ARCH_AMD64)
            snprintf(buf, sizeof buf, "%s%sfamily %u model %u stepping %u", si->vendor_id,
                     si->vendor_id[0] ? " " : "", si->processor_level, si->processor_revision >> 8,
                     si->processor_revision & 0xFF);
        else
            snprintf(buf, sizeof buf, "level %u revision 0x%x", si->processor_level,
                     si->processor_revision);
        dt_json_add_str(o, "cpu_info", buf);
        dt_json_add_num(o, "cpu_count", si->cpu_count);
        dt_json_add_num(o, "processor_architecture", si->processor_architecture);
        dt_json_add_num(o, "platform_id", si->platform_id);
        dt_json_add_num(o, "build", si->build);
        dt_json_add_str(o, "csd_version", si->csd_version);
        dt_json_add_num(o, "product_type", si->product_type);
        dt_json_add_hex(o, "suite_mask", si->suite_mask);
        if (si->arch == DT_ARCH_X86) {
            dt_json_add_str(o, "cpu_vendor", si->vendor_id);
            dt_json_add_hex(o, "cpu_version", si->cpu_version);
            dt_json_add_hex(o, "cpu_features", si->cpu_features);
        } else {
            cJSON *f = cJSON_AddArrayToObject(o, "processor_features");
            if (f) {
                cJSON_AddItemToArray(f, dt_json_hex(si->processor_features[0]));
                cJSON_AddItemToArray(f, dt_json_hex(si->processor_features[1]));
            }
        }
    } else {
        dt_json_add_str(o, "cpu_info", NULL);
        dt_json_add_num(o, "cpu_count", 0);
    }
}

static void add_process(cJSON *user, const dt_minidump *md)
{
    const dt_md_misc_info *mi = &md->misc;
    if (mi->has_pid)
        dt_json_add_num(user, "pid", mi->pid);
    else
        cJSON_AddNullToObject(user, "pid");
    cJSON *p = cJSON_AddObjectToObject(user, "process");
    if (!p)
        return;
    if (mi->has_pid)
        dt_json_add_num(p, "pid", mi->pid);
    else
        cJSON_AddNullToObject(p, "pid");
    dt_json_add_str(p, "image", md->main_module_path);
    if (mi->has_times) {
        dt_json_add_time(p, "create_time", mi->create_time);
        dt_json_add_num(p, "user_time", mi->user_time);
        dt_json_add_num(p, "kernel_time", mi->kernel_time);
        if (md->time_date_stamp >= mi->create_time)
            dt_json_add_num(p, "uptime", (double)(md->time_date_stamp - mi->create_time));
    } else {
        cJSON_AddNullToObject(p, "create_time");
        cJSON_AddNullToObject(p, "user_time");
        cJSON_AddNullToObject(p, "kernel_time");
    }
    if (mi->has_integrity)
        dt_json_add_hex(p, "integrity_level", mi->integrity_level);
    if (mi->has_execute_flags)
        dt_json_add_hex(p, "execute_flags", mi->execute_flags);
    if (mi->has_protected)
        dt_json_add_num(p, "protected_process", mi->protected_process);
    if (mi->has_power) {
        dt_json_add_num(p, "processor_max_mhz", mi->max_mhz);
        dt_json_add_num(p, "processor_current_mhz", mi->current_mhz);
    }
    if (mi->has_timezone) {
        cJSON *tz = cJSON_AddObjectToObject(p, "time_zone");
        if (tz) {
            dt_json_add_num(tz, "id", mi->time_zone_id);
            dt_json_add_num(tz, "bias_minutes", mi->tz_bias);
            dt_json_add_str(tz, "standard_name", mi->tz_standard_name);
            dt_json_add_str(tz, "daylight_name", mi->tz_daylight_name);
        }
    }
    if (mi->build_string)
        dt_json_add_str(p, "build_string", mi->build_string);
    if (mi->dbg_build_string)
        dt_json_add_str(p, "dbg_build_string", mi->dbg_build_string);
    if (mi->has_cookie)
        dt_json_add_hex(p, "process_cookie", mi->process_cookie);
    const dt_md_vm_counters *c = &md->vm_counters;
    if (c->present) {
        cJSON *v = cJSON_AddObjectToObject(p, "vm_counters");
        if (v) {
            dt_json_add_num(v, "revision", c->revision);
            dt_json_add_hex(v, "flags", c->flags);
            dt_json_add_num(v, "page_fault_count", c->page_fault_count);
            dt_json_add_hex(v, "peak_working_set_size", c->peak_working_set_size);
            dt_json_add_hex(v, "working_set_size", c->working_set_size);
            dt_json_add_hex(v, "quota_paged_pool", c->quota_paged_pool);
            dt_json_add_hex(v, "quota_nonpaged_pool", c->quota_nonpaged_pool);
            dt_json_add_hex(v, "pagefile_usage", c->pagefile_usage);
            dt_json_add_hex(v, "peak_pagefile_usage", c->peak_pagefile_usage);
            dt_json_add_hex(v, "private_usage", c->private_usage);
            if (c->has_v2) {
                dt_json_add_hex(v, "virtual_size", c->virtual_size);
                dt_json_add_hex(v, "peak_virtual_size", c->peak_virtual_size);
                dt_json_add_hex(v, "private_working_set_size", c->private_working_set_size);
            }
        }
    }
}

static const dt_module *module_at(const dt_minidump *md, uint64_t addr)
{
    return dt_module_list_find(&md->modules, addr);
}

/* minidump-stackwalk's crash_info.assertion wording, for Breakpad's
 * invalid-parameter / pure-call reports. */
static void add_assertion(cJSON *c, const dt_minidump *md)
{
    const dt_md_assertion_info *a = &md->assertion;
    /* Breakpad writes an all-zero record when nothing was asserted. */
    if (!a->present || (a->type == 0 && (!a->expression || !*a->expression)))
        return;
    char buf[1024];
    const char *kind = a->type == 1 ? "Invalid parameter passed to library function"
                       : a->type == 2 ? "Pure virtual function called"
                                      : "Assertion";
    if (a->expression && *a->expression)
        snprintf(buf, sizeof buf, "%s: %s", kind, a->expression);
    else
        snprintf(buf, sizeof buf, "%s", kind);
    dt_json_add_str(c, "assertion", buf);
    cJSON *o = cJSON_AddObjectToObject(c, "assertion_info");
    if (o) {
        dt_json_add_str(o, "expression", a->expression);
        dt_json_add_str(o, "function", a->function);
        dt_json_add_str(o, "file", a->file);
        dt_json_add_num(o, "line", a->line);
        dt_json_add_num(o, "type", a->type);
    }
}

static void add_crash_info(cJSON *user, const dt_minidump *md, const int *thread_slot)
{
    const dt_md_exception *ex = &md->exception;
    if (!ex->present) {
        cJSON_AddNullToObject(user, "crash_info");
        return;
    }
    cJSON *c = cJSON_AddObjectToObject(user, "crash_info");
    if (!c)
        return;
    uint32_t np = ex->nparams < 15 ? ex->nparams : 15;
    const char *name = dt_exception_name(ex->code, ex->params, np);
    char buf[32];
    if (!name) {
        snprintf(buf, sizeof buf, "0x%08x", ex->code);
        name = buf;
    }
    dt_json_add_str(c, "type", name);
    dt_json_add_hex(c, "code", ex->code);
    dt_json_add_hex(c, "flags", ex->flags);
    /* Like minidump-stackwalk: for memory faults the interesting address is
     * the data address, the instruction address is reported beside it. */
    uint64_t addr = ex->address;
    if ((ex->code == 0xC0000005 || ex->code == 0xC0000006) && np >= 2)
        addr = ex->params[1];
    if (dt_minidump_pointer_size(md) == 4)
        addr &= 0xFFFFFFFFu;
    dt_json_add_hex(c, "address", addr);
    dt_json_add_hex(c, "instruction", ex->address);
    const dt_module *m = module_at(md, ex->address);
    dt_json_add_str(c, "module", m ? m->code_file : NULL);
    if (thread_slot && *thread_slot >= 0)
        dt_json_add_num(c, "crashing_thread", *thread_slot);
    else
        cJSON_AddNullToObject(c, "crashing_thread");
    dt_json_add_num(c, "thread_id", ex->thread_id);
    cJSON *params = cJSON_AddArrayToObject(c, "parameters");
    for (uint32_t i = 0; params && i < np; i++)
        cJSON_AddItemToArray(params, dt_json_hex(ex->params[i]));
    if (ex->code == 0xC0000409 && np >= 1)
        dt_json_add_hex(c, "fast_fail_code", ex->params[0]);
    add_assertion(c, md);
}

static void add_registers(cJSON *t, const dt_cpu_context *ctx)
{
    cJSON *r = cJSON_AddObjectToObject(t, "registers");
    if (!r || !ctx)
        return;
    int n = dt_cpu_context_nregs(ctx->arch);
    for (int i = 0; i < n; i++) {
        uint64_t v;
        const char *name = dt_cpu_context_reg_name(ctx->arch, i);
        if (name && dt_ctx_get(ctx, i, &v))
            dt_json_add_hex(r, name, v);
    }
}

static void add_frame0(cJSON *t, const dt_minidump *md, const dt_cpu_context *ctx)
{
    cJSON *frames = cJSON_AddArrayToObject(t, "frames");
    uint64_t ip, sp;
    if (!frames || !ctx || !dt_ctx_get(ctx, dt_cpu_context_ip_reg(ctx->arch), &ip))
        return;
    cJSON *f = cJSON_CreateObject();
    if (!f)
        return;
    dt_json_add_num(f, "frame", 0);
    dt_json_add_hex(f, "ip", ip);
    if (dt_ctx_get(ctx, dt_cpu_context_sp_reg(ctx->arch), &sp))
        dt_json_add_hex(f, "sp", sp);
    dt_json_add_str(f, "trust", "context");
    const dt_module *m = module_at(md, ip);
    dt_json_add_str(f, "module", m ? m->code_file : NULL);
    if (m)
        dt_json_add_hex(f, "module_offset", ip - m->base);
    else
        cJSON_AddNullToObject(f, "module_offset");
    cJSON_AddItemToArray(frames, f);
}

static cJSON *thread_json(const dt_minidump *md, const dt_md_thread *th)
{
    cJSON *t = cJSON_CreateObject();
    if (!t)
        return NULL;
    dt_json_add_num(t, "thread_id", th->thread_id);
    dt_json_add_str(t, "thread_name", th->name);
    dt_json_add_num(t, "suspend_count", th->suspend_count);
    dt_json_add_hex(t, "priority_class", th->priority_class);
    dt_json_add_num(t, "priority", (int32_t)th->priority);
    dt_json_add_hex(t, "teb", th->teb);
    dt_json_add_hex(t, "stack_start", th->stack_start);
    dt_json_add_hex(t, "stack_end", th->stack_start + th->stack_size);
    dt_json_add_bool(t, "stack_in_dump", th->stack_in_file);
    const dt_cpu_context *ctx = dt_minidump_thread_context(md, th);
    dt_json_add_str(t, "context_source",
                    !ctx ? NULL : ctx == &md->exception.context ? "exception" : "thread");
    if (th->has_info) {
        dt_json_add_filetime(t, "create_time", th->create_time);
        dt_json_add_num(t, "user_time_ms", (double)(th->user_time / 10000));
        dt_json_add_num(t, "kernel_time_ms", (double)(th->kernel_time / 10000));
        dt_json_add_hex(t, "start_address", th->start_address);
        const dt_module *m = module_at(md, th->start_address);
        dt_json_add_str(t, "start_module", m ? m->code_file : NULL);
        dt_json_add_hex(t, "affinity", th->affinity);
        dt_json_add_hex(t, "dump_flags", th->dump_flags);
        if (th->dump_error)
            dt_json_add_hex(t, "dump_error", th->dump_error);
    }
    add_registers(t, ctx);
    add_frame0(t, md, ctx);
    return t;
}

static void add_threads(cJSON *user, const dt_minidump *md, int *crash_slot)
{
    cJSON *arr = cJSON_AddArrayToObject(user, "threads");
    int slot = 0;
    *crash_slot = -1;
    for (size_t i = 0; arr && i < md->nthreads; i++) {
        const dt_md_thread *th = &md->threads[i];
        cJSON *t = thread_json(md, th);
        if (!t)
            continue;
        if (th->is_dump_thread) {
            /* Breakpad's dumper, not the process's own work: shown apart. */
            dt_json_add_bool(t, "is_dump_thread", true);
            if (!cJSON_GetObjectItemCaseSensitive(user, "dump_thread"))
                cJSON_AddItemToObject(user, "dump_thread", t);
            else
                cJSON_Delete(t);
            continue;
        }
        if (md->exception.present && th->thread_id == md->exception.thread_id && *crash_slot < 0)
            *crash_slot = slot;
        cJSON_AddItemToArray(arr, t);
        slot++;
    }
    dt_json_add_num(user, "thread_count", slot);
}

static void add_modules(cJSON *user, const dt_minidump *md)
{
    cJSON *arr = cJSON_AddArrayToObject(user, "modules");
    for (size_t i = 0; arr && i < md->modules.count; i++) {
        const dt_module *m = &md->modules.items[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            continue;
        dt_json_add_hex(o, "base_addr", m->base);
        dt_json_add_hex(o, "end_addr", m->base + m->size);
        dt_json_add_hex(o, "size", m->size);
        dt_json_add_str(o, "filename", m->code_file);
        dt_json_add_str(o, "path", m->path);
        dt_json_add_str(o, "code_id", m->code_id[0] ? m->code_id : NULL);
        dt_json_add_str(o, "debug_file", m->debug_file);
        dt_json_add_str(o, "debug_id", m->debug_id[0] ? m->debug_id : NULL);
        dt_json_add_str(o, "version", m->version[0] ? m->version : NULL);
        dt_json_add_hex(o, "timestamp", m->time_date_stamp);
        dt_json_add_hex(o, "checksum", m->checksum);
        dt_json_add_bool(o, "main", md->main_module_path && m->path &&
                                        strcmp(m->path, md->main_module_path) == 0);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *un = cJSON_AddArrayToObject(user, "unloaded_modules");
    for (size_t i = 0; un && i < md->nunloaded; i++) {
        const dt_md_unloaded_module *u = &md->unloaded[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            continue;
        dt_json_add_hex(o, "base_addr", u->base);
        dt_json_add_hex(o, "end_addr", u->base + u->size);
        const char *base = u->name ? u->name : NULL;
        for (const char *p = base; p && *p; p++)
            if (*p == '\\' || *p == '/')
                base = p + 1;
        dt_json_add_str(o, "filename", base);
        dt_json_add_str(o, "path", u->name);
        char id[24];
        snprintf(id, sizeof id, "%08X%X", u->time_date_stamp, u->size);
        dt_json_add_str(o, "code_id", id);
        dt_json_add_hex(o, "timestamp", u->time_date_stamp);
        cJSON_AddItemToArray(un, o);
    }
}

static void add_handles(cJSON *user, const dt_minidump *md)
{
    cJSON *arr = cJSON_AddArrayToObject(user, "handles");
    for (size_t i = 0; arr && i < md->nhandles; i++) {
        const dt_md_handle *h = &md->handles[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            continue;
        dt_json_add_hex(o, "handle", h->handle);
        dt_json_add_str(o, "type", h->type_name);
        dt_json_add_str(o, "name", h->object_name);
        dt_json_add_hex(o, "attributes", h->attributes);
        dt_json_add_hex(o, "granted_access", h->granted_access);
        dt_json_add_num(o, "handle_count", h->handle_count);
        dt_json_add_num(o, "pointer_count", h->pointer_count);
        /* MINIDUMP_HANDLE_DESCRIPTOR_2 object information (docs/report.md). */
        if (h->has_thread_id)
            cJSON_AddNumberToObject(o, "thread_id", h->thread_id);
        if (h->has_process_id)
            cJSON_AddNumberToObject(o, "process_id", h->process_id);
        if (h->has_mutant_owner)
            cJSON_AddNumberToObject(o, "owner_thread_id", h->mutant_owner_tid);
        if (h->has_mutant_count) {
            cJSON_AddNumberToObject(o, "mutant_count", h->mutant_count);
            cJSON_AddBoolToObject(o, "abandoned", h->mutant_abandoned);
        }
        if (h->has_event) {
            cJSON_AddStringToObject(o, "event_type", h->event_type ? "auto-reset" : "manual-reset");
            cJSON_AddBoolToObject(o, "signalled", h->event_state != 0);
        }
        if (h->has_semaphore) {
            cJSON_AddNumberToObject(o, "semaphore_count", h->semaphore_count);
            cJSON_AddNumberToObject(o, "semaphore_maximum", h->semaphore_maximum);
        }
        cJSON_AddItemToArray(arr, o);
    }
}

static void add_memory(cJSON *user, const dt_minidump *md)
{
    cJSON *o = cJSON_AddObjectToObject(user, "memory");
    if (!o)
        return;
    dt_json_add_num(o, "ranges", (double)md->memory.count);
    dt_json_add_hex(o, "bytes", md->memory.total_bytes);
    dt_json_add_bool(o, "full_memory", md->has_memory64);
    if (md->memory.clipped_bytes)
        dt_json_add_hex(o, "missing_bytes", md->memory.clipped_bytes);
    if (md->has_memory_info) {
        uint64_t commit = 0, reserve = 0, image = 0, priv = 0, mapped = 0;
        for (size_t i = 0; i < md->nregions; i++) {
            const dt_md_memory_region *r = &md->regions[i];
            if (r->state == 0x1000) {
                commit += r->region_size;
                if (r->type == 0x1000000) image += r->region_size;
                else if (r->type == 0x20000) priv += r->region_size;
                else if (r->type == 0x40000) mapped += r->region_size;
            } else if (r->state == 0x2000) {
                reserve += r->region_size;
            }
        }
        dt_json_add_num(o, "regions", (double)md->nregions);
        dt_json_add_hex(o, "committed_bytes", commit);
        dt_json_add_hex(o, "reserved_bytes", reserve);
        dt_json_add_hex(o, "image_bytes", image);
        dt_json_add_hex(o, "private_bytes", priv);
        dt_json_add_hex(o, "mapped_bytes", mapped);
    } else {
        cJSON_AddNullToObject(o, "regions");
    }
}

static void add_streams(cJSON *user, const dt_minidump *md)
{
    cJSON *arr = cJSON_AddArrayToObject(user, "streams");
    for (size_t i = 0; arr && i < md->nstreams; i++) {
        const dt_md_stream *s = &md->streams[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            continue;
        dt_json_add_hex(o, "type", s->type);
        dt_json_add_str(o, "name", dt_minidump_stream_name(s->type));
        dt_json_add_num(o, "size", s->size);
        dt_json_add_hex(o, "rva", s->rva);
        if (!s->in_file)
            dt_json_add_bool(o, "truncated", true);
        cJSON_AddItemToArray(arr, o);
    }
}

static void add_extras(cJSON *user, const dt_minidump *md)
{
    if (md->comment_a || md->comment_w) {
        cJSON *c = cJSON_AddObjectToObject(user, "comment");
        if (c) {
            if (md->comment_a)
                dt_json_add_str(c, "a", md->comment_a);
            if (md->comment_w)
                dt_json_add_str(c, "w", md->comment_w);
        }
    }
    if (md->breakpad.present) {
        cJSON *b = cJSON_AddObjectToObject(user, "breakpad_info");
        if (b) {
            dt_json_add_hex(b, "validity", md->breakpad.validity);
            if (md->breakpad.validity & 1)
                dt_json_add_num(b, "dump_thread_id", md->breakpad.dump_thread_id);
            if (md->breakpad.validity & 2)
                dt_json_add_num(b, "requesting_thread_id", md->breakpad.requesting_thread_id);
        }
    }
    if (md->crashpad.present) {
        cJSON *c = cJSON_AddObjectToObject(user, "crashpad_info");
        if (c) {
            dt_json_add_num(c, "version", md->crashpad.version);
            dt_json_add_str(c, "report_id", md->crashpad.report_id[0] ? md->crashpad.report_id : NULL);
            dt_json_add_str(c, "client_id", md->crashpad.client_id[0] ? md->crashpad.client_id : NULL);
        }
    }
    if (md->token.present) {
        cJSON *t = cJSON_AddObjectToObject(user, "token");
        if (t) {
            dt_json_add_num(t, "token_count", md->token.token_count);
            dt_json_add_num(t, "total_size", md->token.total_size);
        }
    }
    if (md->system_memory.present) {
        cJSON *s = cJSON_AddObjectToObject(user, "system_memory_info");
        if (s) {
            dt_json_add_num(s, "revision", md->system_memory.revision);
            dt_json_add_hex(s, "flags", md->system_memory.flags);
            dt_json_add_num(s, "size", md->system_memory.size);
        }
    }
}

cJSON *dt_user_report(const dt_minidump *md)
{
    cJSON *user = cJSON_CreateObject();
    if (!user)
        return NULL;
    dt_json_add_str(user, "format", "minidump");
    cJSON *d = cJSON_AddObjectToObject(user, "dump");
    if (d) {
        dt_json_add_hex(d, "version", md->version);
        dt_json_add_hex(d, "flags", md->flags);
        dt_json_add_time(d, "time", md->time_date_stamp);
        dt_json_add_num(d, "size", (double)md->file.size);
    }
    add_system_info(user, md);
    add_process(user, md);
    int crash_slot = -1;
    /* Threads go first: crash_info names the crashing thread by its index
     * in threads[], which is known only once the dump thread is left out. */
    add_threads(user, md, &crash_slot);
    add_crash_info(user, md, &crash_slot);
    add_modules(user, md);
    add_handles(user, md);
    add_memory(user, md);
    add_streams(user, md);
    add_extras(user, md);
    cJSON *w = cJSON_AddArrayToObject(user, "warnings");
    for (size_t i = 0; w && i < md->warnings.count; i++)
        cJSON_AddItemToArray(w, dt_json_str(md->warnings.items[i]));
    if (w && md->warnings.dropped) {
        char buf[64];
        snprintf(buf, sizeof buf, "%zu more warnings not shown", md->warnings.dropped);
        cJSON_AddItemToArray(w, dt_json_str(buf));
    }
    return user;
}
