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
            dt_module_short_name(m->code_file, name, sizeof name);
            cJSON_AddStringToObject(o, "module", name);
            cJSON_AddStringToObject(o, "module_short", name);
            add_str_or_null(o, "module_file", m->code_file);
            add_hex(o, "module_offset", f->ip - m->base);
        } else {
            cJSON_AddNullToObject(o, "module");
            cJSON_AddNullToObject(o, "module_short");
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

/* One pending IRP (docs/report.md, kernel threads[].irps[]). */
static cJSON *irp_json(const dt_kernel_dump *kd, const dt_kernel_irp *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_hex(o, "irp", r->irp);
    add_str_or_null(o, "major", dt_kernel_irp_major_name(r->major));
    add_int_or_null(o, "major_code", r->major);
    add_int_or_null(o, "minor", r->minor);
    if (r->has_code) {
        cJSON *c = cJSON_AddObjectToObject(o, "code");
        add_hex(c, "value", r->code);
        cJSON_AddStringToObject(c, "kind", r->major == 0x0d ? "fsctl" : "ioctl");
        add_str_or_null(c, "name", dt_kernel_io_code_name(r->code));
        /* CTL_CODE: DeviceType << 16 | Access << 14 | Function << 2 | Method */
        add_hex(c, "device_type", r->code >> 16);
        cJSON_AddNumberToObject(c, "function", (double)((r->code >> 2) & 0xfff));
        static const char *const methods[] = { "METHOD_BUFFERED", "METHOD_IN_DIRECT", "METHOD_OUT_DIRECT",
                                               "METHOD_NEITHER" };
        static const char *const access[] = { "FILE_ANY_ACCESS", "FILE_READ_ACCESS", "FILE_WRITE_ACCESS",
                                              "FILE_READ_ACCESS|FILE_WRITE_ACCESS" };
        cJSON_AddStringToObject(c, "method", methods[r->code & 3]);
        cJSON_AddStringToObject(c, "access", access[(r->code >> 14) & 3]);
    } else {
        cJSON_AddNullToObject(o, "code");
    }
    if (r->has_length)
        cJSON_AddNumberToObject(o, "length", r->length);
    else
        cJSON_AddNullToObject(o, "length");
    add_hex(o, "flags", r->flags);
    cJSON_AddBoolToObject(o, "cancel", r->cancel);
    cJSON_AddBoolToObject(o, "pending_returned", r->pending_returned);
    if (r->requestor_mode == 0 || r->requestor_mode == 1)
        cJSON_AddStringToObject(o, "requestor_mode", r->requestor_mode ? "UserMode" : "KernelMode");
    else
        cJSON_AddNullToObject(o, "requestor_mode");
    cJSON_AddNumberToObject(o, "stack_count", r->stack_count);
    cJSON_AddNumberToObject(o, "current_location", r->current_location);
    add_hex_or_null(o, "stack_location", r->stack_location);
    if (r->file_object) {
        cJSON *f = cJSON_AddObjectToObject(o, "file");
        add_hex(f, "object", r->file_object);
        add_str_or_null(f, "name", r->has_file_name ? r->file_name : NULL);
    } else {
        cJSON_AddNullToObject(o, "file");
    }
    if (r->device_object) {
        cJSON *d = cJSON_AddObjectToObject(o, "device");
        add_hex(d, "object", r->device_object);
        if (r->device_type >= 0)
            add_hex(d, "type", (uint64_t)r->device_type);
        else
            cJSON_AddNullToObject(d, "type");
        add_str_or_null(d, "type_name", dt_kernel_device_type_name(r->device_type));
    } else {
        cJSON_AddNullToObject(o, "device");
    }
    if (r->driver_object) {
        cJSON *d = cJSON_AddObjectToObject(o, "driver");
        add_hex(d, "object", r->driver_object);
        add_str_or_null(d, "name", r->driver_name);
        const dt_module *m = r->driver_start ? dt_module_list_find(&kd->drivers, r->driver_start) : NULL;
        char sb[64];
        add_str_or_null(d, "module", m ? dt_module_short_name(m->path ? m->path : m->code_file, sb, sizeof sb) : NULL);
    } else {
        cJSON_AddNullToObject(o, "driver");
    }
    cJSON *ds = cJSON_AddArrayToObject(o, "device_stack");
    for (size_t i = 0; ds && i < r->device_count; i++) {
        cJSON *d = cJSON_CreateObject();
        if (!d)
            break;
        add_hex(d, "device", r->devices[i].device);
        add_hex_or_null(d, "driver", r->devices[i].driver);
        add_str_or_null(d, "driver_name", r->devices[i].driver_name);
        cJSON_AddItemToArray(ds, d);
    }
    /* An IRP holds no time of its own; how long the thread has waited is
     * the thread's wait_seconds. */
    cJSON_AddNullToObject(o, "age_seconds");
    return o;
}

/* An ALPC/LPC wait's port and server (docs/report.md, kernel threads[].alpc);
 * null when the thread is in none or nothing of it could be read. */
static void add_alpc(cJSON *o, const dt_kernel_alpc_wait *w)
{
    if (!w->kind) {
        cJSON_AddNullToObject(o, "alpc");
        return;
    }
    cJSON *a = cJSON_AddObjectToObject(o, "alpc");
    if (!a)
        return;
    cJSON_AddStringToObject(a, "kind", w->kind);
    add_hex_or_null(a, "message", w->message);
    if (w->message)
        cJSON_AddNumberToObject(a, "message_id", (double)w->message_id);
    else
        cJSON_AddNullToObject(a, "message_id");
    cJSON_AddBoolToObject(a, "message_in_dump", w->message_in_dump);
    add_hex_or_null(a, "port", w->port);
    add_hex_or_null(a, "connection_port", w->connection_port);
    add_str_or_null(a, "port_name", w->port_name);
    add_hex_or_null(a, "named_port", w->port_named);
    add_hex_or_null(a, "server_eprocess", w->server_eprocess);
    if (w->has_server_pid)
        cJSON_AddNumberToObject(a, "server_process_id", (double)w->server_pid);
    else
        cJSON_AddNullToObject(a, "server_process_id");
    add_str_or_null(a, "server_image", w->server_image);
    add_hex_or_null(a, "server_ethread", w->server_ethread);
    if (w->has_server_tid)
        cJSON_AddNumberToObject(a, "server_thread_id", (double)w->server_tid);
    else
        cJSON_AddNullToObject(a, "server_thread_id");
    add_str_or_null(a, "source", w->source);
}

static cJSON *thread_json(const dt_kernel_dump *kd, const dt_kernel_thread *t, dt_symbolizer *sym)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (t->has_cid) {
        cJSON_AddNumberToObject(o, "pid", (double)t->pid);
        cJSON_AddNumberToObject(o, "thread_id", (double)t->tid);
    } else {
        cJSON_AddNullToObject(o, "pid");
        cJSON_AddNullToObject(o, "thread_id");
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
        static const char *const wait_types[] = { "WaitAll", "WaitAny", "WaitNotification", "WaitDequeue", "WaitDpc" };
        add_str_or_null(wo, "wait_type", w->wait_type >= 0 && w->wait_type < 5 ? wait_types[w->wait_type] : NULL);
        add_int_or_null(wo, "wait_key", w->wait_key);
        if (w->has_signal_state)
            cJSON_AddNumberToObject(wo, "signal_state", w->signal_state);
        else
            cJSON_AddNullToObject(wo, "signal_state");
        if (w->has_limit)
            cJSON_AddNumberToObject(wo, "semaphore_limit", w->limit);
        if (w->has_target_pid)
            cJSON_AddNumberToObject(wo, "process_id", (double)w->target_pid);
        if (w->has_owner) {
            cJSON_AddNumberToObject(wo, "owner_thread_id", (double)w->owner_tid);
            add_hex(wo, "owner_ethread", w->owner_ethread);
        }
        if (w->has_target)
            cJSON_AddNumberToObject(wo, "thread_id", (double)w->target_tid);
        cJSON_AddItemToArray(wos, wo);
    }
    add_alpc(o, &t->alpc);
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
    cJSON *ss = cJSON_AddObjectToObject(o, "stack_start");
    add_str_or_null(ss, "source", t->start_source);
    add_hex_or_null(ss, "context", t->start_context);
    add_str_or_null(ss, "note", t->start_note);
    add_str_or_null(o, "irp_source", t->irp_source);
    cJSON *irps = cJSON_AddArrayToObject(o, "irps");
    for (size_t i = 0; irps && i < t->irp_count; i++)
        cJSON_AddItemToArray(irps, irp_json(kd, &t->irps[i]));
    cJSON_AddItemToObject(o, "frames", frames_json(kd, t, sym));
    return o;
}

cJSON *dt_kernel_report(const dt_kernel_dump *kd, dt_symbolizer *sym)
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
    cJSON_AddBoolToObject(d, "kdbg_decoded", kd->kdbg_decoded);
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
    /* the independent public listings the layout was checked against
     * (docs/kernel_offsets.md "Sources per row"): ["VG", "GC"]; one entry
     * means a single-sourced layout */
    if (kd->offsets.table_sources) {
        cJSON *src = cJSON_AddArrayToObject(off, "layout_sources");
        for (const char *const *c = kd->offsets.table_sources; *c; c++)
            cJSON_AddItemToArray(src, cJSON_CreateString(*c));
    } else {
        cJSON_AddNullToObject(off, "layout_sources");
    }

    cJSON *drv = cJSON_AddArrayToObject(root, "drivers");
    for (size_t i = 0; i < kd->drivers.count; i++) {
        const dt_module *m = &kd->drivers.items[i];
        cJSON *o = cJSON_CreateObject();
        add_hex(o, "base_addr", m->base);
        add_hex(o, "end_addr", m->base + m->size);
        add_str_or_null(o, "filename", m->code_file);
        char name[128];
        cJSON_AddStringToObject(o, "name", dt_module_short_name(m->code_file, name, sizeof name));
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
