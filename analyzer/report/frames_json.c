/*
 * frames_json.c — see frames_json.h.
 *
 * A caller frame's ip is a return address: the call that made it is the
 * instruction before, which may belong to another function (a call as the
 * last instruction of a noreturn path), so names are looked up at ip - 1 and
 * the offset reported from the function start to ip, as WinDbg and
 * minidump-stackwalk do.
 */
#include "report/frames_json.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/module.h"
#include "symbols/syscall_names.h"

/* A caller frame's non-volatile registers as the unwinder recovered them
 * (x64: rbx, rbp, rsi, rdi, r12-r15).  Each holds the value it had when this
 * frame made its call: restored from the stack where a callee's unwind data
 * saved it (UWOP_PUSH_NONVOL / UWOP_SAVE_NONVOL), else carried unchanged
 * through callees that never touch it (the x64 convention preserves it).
 * "nonvolatile_restored" names those whose value differs from the callee
 * frame's: certainly read from a save slot of the frame below. */
static void add_nonvolatile(cJSON *o, const dt_frame *f, const dt_frame *callee)
{
    static const int regs[] = { DT_AMD64_RBX, DT_AMD64_RBP, DT_AMD64_RSI, DT_AMD64_RDI,
                                DT_AMD64_R12, DT_AMD64_R13, DT_AMD64_R14, DT_AMD64_R15 };
    if (f->context.arch != DT_ARCH_AMD64)
        return;
    cJSON *nv = NULL, *restored = NULL;
    for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++) {
        uint64_t v, cv;
        if (!dt_ctx_get(&f->context, regs[k], &v))
            continue;
        const char *name = dt_cpu_context_reg_name(DT_ARCH_AMD64, regs[k]);
        if (!name)
            continue;
        if (!nv && !(nv = cJSON_AddObjectToObject(o, "nonvolatile")))
            return;
        dt_json_add_hex(nv, name, v);
        if (dt_ctx_get(&callee->context, regs[k], &cv) && cv != v) {
            if (!restored && !(restored = cJSON_AddArrayToObject(o, "nonvolatile_restored")))
                return;
            cJSON_AddItemToArray(restored, cJSON_CreateString(name));
        }
    }
}

/* MEMORY_BASIC_INFORMATION.Protect's base value (the low byte). */
static const char *protect_name(uint32_t p)
{
    switch (p & 0xFF) {
    case 0x01: return "PAGE_NOACCESS";
    case 0x02: return "PAGE_READONLY";
    case 0x04: return "PAGE_READWRITE";
    case 0x08: return "PAGE_WRITECOPY";
    case 0x10: return "PAGE_EXECUTE";
    case 0x20: return "PAGE_EXECUTE_READ";
    case 0x40: return "PAGE_EXECUTE_READWRITE";
    case 0x80: return "PAGE_EXECUTE_WRITECOPY";
    default: return NULL;
    }
}

/* A frame in code outside every module (#19): JIT compilers' and other
 * generated code, with what the dump says of it: the memory region
 * (MemoryInfoList) and the dynamic function table that describes it. */
static void add_generated_code(cJSON *o, const dt_frame *f)
{
    dt_json_add_bool(o, "generated_code", true);
    if (f->region) {
        cJSON *r = cJSON_AddObjectToObject(o, "memory_region");
        if (r) {
            const char *pn = protect_name(f->region->protect);
            dt_json_add_hex(r, "base", f->region->base);
            dt_json_add_hex(r, "size", f->region->size);
            dt_json_add_hex(r, "protect", f->region->protect);
            if (pn)
                dt_json_add_str(r, "protection", pn);
            dt_json_add_str(r, "type", f->region->type == 0x20000 ? "MEM_PRIVATE"
                                       : f->region->type == 0x40000 ? "MEM_MAPPED"
                                       : f->region->type == 0x1000000 ? "MEM_IMAGE" : "unknown");
            dt_json_add_hex(o, "region_offset", f->ip - f->region->base);
        }
    }
    if (f->function_table) {
        cJSON *t = cJSON_AddObjectToObject(o, "function_table");
        if (t) {
            dt_json_add_hex(t, "min_address", f->function_table->min_address);
            dt_json_add_hex(t, "max_address", f->function_table->max_address);
            dt_json_add_hex(t, "base_address", f->function_table->base_address);
            dt_json_add_num(t, "entries", f->function_table->entry_count);
        }
    }
}

cJSON *dt_report_frames(const dt_stack *st, dt_symbolizer *sym, const dt_addrspace *as, size_t nonvolatile_frames)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < st->count; i++) {
        const dt_frame *f = &st->frames[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        dt_json_add_num(o, "frame", (double)i);
        dt_json_add_hex(o, "ip", f->ip);
        dt_json_add_hex(o, "sp", f->sp);
        dt_json_add_str(o, "trust", dt_frame_trust_name(f->trust));
        if (f->module) {
            char short_name[128];
            dt_json_add_str(o, "module", f->module->code_file);
            /* The name before '!' (base/module.h), so no reader of the
             * report (the web page) decides module identity itself. */
            dt_json_add_str(o, "module_short", dt_module_short_name(f->module->code_file, short_name,
                                                                     sizeof short_name));
            dt_json_add_hex(o, "module_offset", f->module_offset);
            dt_symbol s = { 0 };
            uint64_t at = i > 0 && f->ip > 0 ? f->ip - 1 : f->ip;
            if (sym && dt_symbolizer_lookup(sym, f->module, as, at, &s) && s.function) {
                dt_json_add_str(o, "function", s.function);
                if (s.function_raw)
                    dt_json_add_str(o, "function_raw", s.function_raw);
                dt_json_add_hex(o, "function_offset", s.function_offset + (f->ip - at));
                if (s.file) {
                    dt_json_add_str(o, "file", s.file);
                    dt_json_add_num(o, "line", s.line);
                }
                if (s.ninlines) {
                    /* rust-minidump's shape, innermost first */
                    cJSON *inl = cJSON_AddArrayToObject(o, "inlines");
                    for (size_t k = 0; inl && k < s.ninlines; k++) {
                        cJSON *x = cJSON_CreateObject();
                        if (!x)
                            break;
                        dt_json_add_str(x, "function_name", s.inlines[k].function);
                        if (s.inlines[k].file) {
                            dt_json_add_str(x, "source_file_name", s.inlines[k].file);
                            dt_json_add_num(x, "source_line", s.inlines[k].line);
                        }
                        cJSON_AddItemToArray(inl, x);
                    }
                }
                dt_json_add_str(o, "symbol_provider", s.provider);
                if (s.export_only)
                    dt_json_add_bool(o, "export_only", true);
            } else {
                dt_json_add_bool(o, "missing_symbols", true);
                /* A thread in a system call is still classified when
                 * ntdll has no symbols: the stub's service number names it. */
                dt_syscall sc;
                if (i == 0 && dt_syscall_identify(f->module, f->ip, &f->context, as, &sc)) {
                    dt_json_add_str(o, "function", sc.name);
                    dt_json_add_str(o, "symbol_provider", "syscall");
                    dt_json_add_num(o, "syscall_number", sc.number);
                    dt_json_add_str(o, "syscall_number_from", sc.source);
                }
            }
            dt_symbol_clear(&s);
        } else {
            cJSON_AddNullToObject(o, "module");
            cJSON_AddNullToObject(o, "module_short");
            if (f->generated_code)
                add_generated_code(o, f);
        }
        if (f->machine_frame)
            dt_json_add_bool(o, "machine_frame", true);
        if (i > 0 && i <= nonvolatile_frames && !f->machine_frame)
            add_nonvolatile(o, f, &st->frames[i - 1]);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

void dt_report_annotate_modules(cJSON *modules_json, dt_module_list *list, dt_symbolizer *sym,
                                const dt_addrspace *as)
{
    cJSON *o;
    cJSON_ArrayForEach(o, modules_json)
    {
        uint64_t base;
        if (!dt_json_u64(o, "base_addr", &base))
            continue;
        dt_module *m = dt_module_list_at_base(list, base);
        if (!m)
            continue;
        if (sym)
            dt_symbolizer_annotate(sym, m, as);
        cJSON_DeleteItemFromObjectCaseSensitive(o, "loaded_symbols");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "missing_symbols");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "symbol_source");
        bool exports = m->symbol_source && strcmp(m->symbol_source, "exports") == 0;
        dt_json_add_bool(o, "loaded_symbols", m->symbols_loaded);
        dt_json_add_bool(o, "missing_symbols", !m->symbols_loaded && !exports);
        dt_json_add_str(o, "symbol_source", m->symbol_source ? m->symbol_source : "missing_symbols");
    }
}
