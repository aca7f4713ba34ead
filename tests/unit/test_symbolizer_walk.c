/*
 * test_symbolizer_walk.c — the symbolizer end to end with the minidump
 * parser and the stack walker:
 *
 *  - user/breakpad__minidump2.dmp with breakpad__test_app.sym and
 *    breakpad__kernel32.sym in a symstore-layout directory (built here):
 *    the crashing thread's frames (module, function, offsets, trust) equal
 *    expected/breakpad__minidump2.stackwalk.out;
 *  - wine/multi_hang.dmp.gz with wine/bin/clang on the symbol path: the
 *    test program's static functions are named from its PDB, system DLLs
 *    from their export tables in dump memory, and every named frame of
 *    multi_hang.verify.json's stacks is found the same in ours.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "model/kernel_dump.h"
#include "base/mapped_file.h"
#include "symbols/symbolizer.h"
#include "unwind/symbol_hooks.h"
#include "unwind/stackwalk.h"

static char tmp[256];

static void copy_file(const char *from, const char *to)
{
    size_t n;
    unsigned char *b = dt_test_read_file(from, &n);
    ck_assert_ptr_nonnull(b);
    FILE *f = fopen(to, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);
}

static void store_sym(const char *pdb, const char *id, const char *name, const char *src)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", tmp, pdb);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", tmp, pdb, id);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s/%s", tmp, pdb, id, name);
    copy_file(dt_test_data(src), p);
}

/* "module!function [file : line + 0xN]" or "module!function + 0xN" as
 * minidump_stackwalk prints frames. */
static void frame_text(dt_symbolizer *s, const dt_frame *f, const dt_addrspace *as, char *out, size_t cap)
{
    if (!f->module) {
        snprintf(out, cap, "0x%llx", (unsigned long long)f->ip);
        return;
    }
    uint64_t lookup = f->trust == DT_TRUST_CONTEXT ? f->ip : f->ip - 1;
    dt_symbol sym;
    if (!dt_symbolizer_lookup(s, f->module, as, lookup, &sym)) {
        snprintf(out, cap, "%s + 0x%llx", f->module->code_file, (unsigned long long)f->module_offset);
        return;
    }
    uint64_t func_off = sym.function_offset + (lookup != f->ip);
    if (sym.file) {
        /* Breakpad prints the offset from the line record start; the
         * symbolizer gives the function offset, so recover it via the .sym. */
        const dt_breakpad_sym *bp = dt_symbolizer_breakpad(s, f->module);
        dt_breakpad_symbol bs;
        uint64_t line_off = func_off;
        if (bp && dt_breakpad_sym_lookup(bp, (uint32_t)(lookup - f->module->base), &bs) && bs.file)
            line_off = f->ip - f->module->base - bs.line_rva;
        const char *base = strrchr(sym.file, '\\');
        snprintf(out, cap, "%s!%s [%s : %u + 0x%llx]", f->module->code_file, sym.function,
                 base ? base + 1 : sym.file, sym.line, (unsigned long long)line_off);
    } else {
        snprintf(out, cap, "%s!%s + 0x%llx", f->module->code_file, sym.function, (unsigned long long)func_off);
    }
    dt_symbol_clear(&sym);
}

START_TEST(minidump2_crashing_thread_equals_stackwalk)
{
    snprintf(tmp, sizeof tmp, "/tmp/dt_symwalk_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    store_sym("test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF1", "test_app.sym", "symbols/breakpad__test_app.sym");
    store_sym("kernel32.pdb", "BCE8785C57B44245A669896B6A19B9542", "kernel32.sym", "symbols/breakpad__kernel32.sym");

    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert(dt_mapped_file_open(&f, dt_test_data("user/breakpad__minidump2.dmp"), &err) == DT_OK);
    dt_minidump *md = NULL;
    ck_assert_msg(dt_minidump_parse(f.view, &md, &err) == DT_OK, "%s", err.message);
    const char *dirs[] = { tmp };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, &err);
    dt_stackwalk_hooks hooks;
    dt_symbol_hooks hctx;
    dt_symbol_hooks_init(&hctx, &hooks, s, dt_minidump_addrspace(md));

    ck_assert(md->exception.present && md->exception.has_context);
    const dt_md_thread *t = dt_minidump_find_thread(md, md->exception.thread_id);
    ck_assert_ptr_nonnull(t);
    const dt_addrspace *as = dt_minidump_addrspace(md);
    dt_stackwalk_input in = { .arch = DT_ARCH_X86, .start = &md->exception.context, .memory = as,
                              .modules = &md->modules, .stack_low = t->stack_start,
                              .stack_high = t->stack_start + t->stack_size, .hooks = &hooks };
    dt_stack st;
    ck_assert(dt_stackwalk(&in, &st, &err) == DT_OK);

    static const struct {
        const char *text, *trust;
        uint64_t eip, esp, ebp;
    } want[] = {
        { "test_app.exe!`anonymous namespace'::CrashFunction [test_app.cc : 58 + 0x3]", "context",
          0x0040429e, 0x0012fe84, 0x0012fe88 },
        { "test_app.exe!main [test_app.cc : 65 + 0x5]", "cfi", 0x00404200, 0x0012fe90, 0x0012ff70 },
        { "test_app.exe!__tmainCRTStartup [crt0.c : 327 + 0x12]", "cfi", 0x004053ec, 0x0012ff78, 0x0012ffc0 },
        { "kernel32.dll!BaseProcessStart + 0x23", "cfi", 0x7c816fd7, 0x0012ffc8, 0x0012fff0 },
    };
    size_t n = sizeof want / sizeof *want;
    ck_assert_msg(st.count == n, "%zu frames (stop: %s)", st.count, st.stop_reason);
    for (size_t i = 0; i < n; i++) {
        char text[512];
        frame_text(s, &st.frames[i], as, text, sizeof text);
        ck_assert_str_eq(text, want[i].text);
        ck_assert_str_eq(dt_frame_trust_name(st.frames[i].trust), want[i].trust);
        ck_assert_uint_eq(st.frames[i].ip, want[i].eip);
        ck_assert_uint_eq(st.frames[i].sp, want[i].esp);
        ck_assert_uint_eq(st.frames[i].fp, want[i].ebp);
    }
    /* modules with symbols are marked, the others show module+offset */
    for (size_t i = 0; i < md->modules.count; i++) {
        dt_module *m = &md->modules.items[i];
        dt_symbolizer_annotate(s, m, as);
        bool want_loaded = strcmp(m->code_file, "test_app.exe") == 0 || strcmp(m->code_file, "kernel32.dll") == 0;
        ck_assert_msg(m->symbols_loaded == want_loaded, "%s", m->code_file);
        if (want_loaded)
            ck_assert_ptr_nonnull(strstr(m->symbol_source, "breakpad:"));
    }
    dt_stack_free(&st);
    dt_symbol_hooks_free(&hctx);
    dt_symbolizer_free(s);
    dt_minidump_free(md);
    dt_mapped_file_close(&f);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ntdll exports NtX and ZwX at one address; either name is right. */
static bool same_frame(const char *ours, const char *want)
{
    if (strcmp(ours, want) == 0)
        return true;
    const char *a = strchr(ours, '!'), *b = strchr(want, '!');
    return a && b && a - ours == b - want && strncmp(ours, want, (size_t)(a - ours)) == 0 &&
           (strncmp(a, "!Nt", 3) == 0 || strncmp(a, "!Zw", 3) == 0) &&
           (strncmp(b, "!Nt", 3) == 0 || strncmp(b, "!Zw", 3) == 0) && strcmp(a + 3, b + 3) == 0;
}

START_TEST(wine_multi_hang_static_functions_from_pdb)
{
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert(dt_mapped_file_open(&f, dt_test_data("wine/multi_hang.dmp.gz"), &err) == DT_OK);
    dt_minidump *md = NULL;
    ck_assert_msg(dt_minidump_parse(f.view, &md, &err) == DT_OK, "%s", err.message);
    const char *dirs[] = { dt_test_data("wine/bin/clang") };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, &err);
    const dt_addrspace *as = dt_minidump_addrspace(md);
    dt_stackwalk_hooks hooks;
    dt_symbol_hooks hctx;
    dt_symbol_hooks_init(&hctx, &hooks, s, as);

    size_t jn;
    char *json = (char *)dt_test_read_file(dt_test_data("wine/multi_hang.verify.json"), &jn);
    ck_assert_ptr_nonnull(json);
    json = realloc(json, jn + 1);
    json[jn] = 0;
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    cJSON *threads = cJSON_GetObjectItem(root, "threads");

    bool saw_lock_second = false;
    size_t compared = 0, compared_pdb = 0;
    for (size_t i = 0; i < md->nthreads; i++) {
        const dt_md_thread *t = &md->threads[i];
        if (!t->has_context)
            continue;
        dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &t->context, .memory = as,
                                  .modules = &md->modules, .stack_low = t->stack_start,
                                  .stack_high = t->stack_start + t->stack_size, .hooks = &hooks };
        dt_stack st;
        ck_assert(dt_stackwalk(&in, &st, &err) == DT_OK);
        char ours[64][512];
        size_t nours = st.count < 64 ? st.count : 64;
        for (size_t k = 0; k < nours; k++) {
            const dt_frame *fr = &st.frames[k];
            uint64_t lookup = fr->trust == DT_TRUST_CONTEXT ? fr->ip : fr->ip - 1;
            dt_symbol sym;
            if (fr->module && dt_symbolizer_lookup(s, fr->module, as, lookup, &sym)) {
                snprintf(ours[k], sizeof ours[k], "%s!%s+0x%llx", fr->module->code_file, sym.function,
                         (unsigned long long)(sym.function_offset + (lookup != fr->ip)));
                ck_assert(sym.export_only == (strcmp(sym.provider, "exports") == 0));
                if (strcmp(fr->module->code_file, "ntdll.dll") == 0)
                    ck_assert_str_eq(sym.provider, "exports");
                if (strcmp(sym.function, "df_lock_second") == 0) {
                    saw_lock_second = true;
                    ck_assert_str_eq(sym.provider, "pdb");
                    ck_assert(!sym.export_only);
                    ck_assert_str_eq(ours[k], "multi_hang.exe!df_lock_second+0xe");
                }
                dt_symbol_clear(&sym);
            } else {
                snprintf(ours[k], sizeof ours[k], "?");
            }
        }
        /* the verify stacks' multi_hang.exe frames with names */
        cJSON *vt;
        cJSON_ArrayForEach(vt, threads) {
            cJSON *tid = cJSON_GetObjectItem(vt, "tid");
            if (!cJSON_IsNumber(tid) || (uint32_t)tid->valuedouble != t->thread_id)
                continue;
            cJSON *fr;
            size_t j = 0;
            cJSON_ArrayForEach(fr, cJSON_GetObjectItem(vt, "stack")) {
                const char *v = cJSON_GetStringValue(fr);
                size_t at = j++;
                if (!v || !strchr(v, '!'))
                    continue; /* module+offset frames: nothing to compare */
                /* Frame for frame: the same name at the same depth. */
                ck_assert_msg(at < nours && same_frame(ours[at], v), "thread %u frame %zu: %s, expected %s",
                              t->thread_id, at, at < nours ? ours[at] : "(beyond our walk)", v);
                if (strncmp(v, "multi_hang.exe!", 15) == 0)
                    compared_pdb++;
                compared++;
            }
        }
        dt_stack_free(&st);
    }
    ck_assert(saw_lock_second);
    ck_assert_uint_ge(compared, 40);
    ck_assert_uint_ge(compared_pdb, 12);
    cJSON_Delete(root);
    free(json);
    dt_symbol_hooks_free(&hctx);
    dt_symbolizer_free(s);
    dt_minidump_free(md);
    dt_mapped_file_close(&f);
}
END_TEST

static bool image_hook(void *ctx, const dt_module *m, dt_view *pe_file)
{
    return dt_symbolizer_image_file(ctx, m, pe_file);
}

/* kernel/rizin__triage_x64.dmp: the driver list has names, timestamps and
 * sizes but no CodeView records; with symstore-kernel/ on the path the
 * amdppm.sys frames of rizin's expected backtrace (pdb.amdppm.NAME+DEC)
 * are named from amdppm.pdb, reached through amdppm.sys's debug directory. */
START_TEST(kernel_triage_driver_names_from_pdb)
{
    const char *dirs[] = { dt_test_data("symstore-kernel") };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, NULL);
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert(dt_mapped_file_open(&f, dt_test_data("kernel/rizin__triage_x64.dmp"), &err) == DT_OK);
    dt_kernel_options opts = { .image_file = image_hook, .image_file_ctx = s };
    dt_kernel_dump kd;
    ck_assert_msg(dt_kernel_dump_open(f.view, &opts, &kd, &err) == DT_OK, "%s", err.message);

    FILE *ex = fopen(dt_test_data("expected/rizin__triage_x64.dbt.txt"), "r");
    ck_assert_ptr_nonnull(ex);
    char line[1024];
    size_t checked = 0;
    while (fgets(line, sizeof line, ex)) {
        unsigned long long addr;
        char *p = strstr(line, "pdb.amdppm.");
        if (!p || sscanf(line, "%*d %llx", &addr) != 1)
            continue;
        char want[256];
        ck_assert(sscanf(p + 11, "%255s", want) == 1);
        const dt_module *m = dt_module_list_find(&kd.drivers, addr);
        ck_assert_msg(m != NULL, "no driver at 0x%llx", addr);
        dt_symbol sym;
        ck_assert_msg(dt_symbolizer_lookup(s, m, &kd.as, addr, &sym), "0x%llx", addr);
        char got[300];
        snprintf(got, sizeof got, "%s+%llu", sym.function, (unsigned long long)sym.function_offset);
        ck_assert_str_eq(got, want);
        ck_assert_str_eq(sym.provider, "pdb");
        dt_symbol_clear(&sym);
        checked++;
    }
    fclose(ex);
    ck_assert_uint_eq(checked, 6);
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
    dt_symbolizer_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("symbolizer_walk");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, minidump2_crashing_thread_equals_stackwalk);
    tcase_add_test(tc, wine_multi_hang_static_functions_from_pdb);
    tcase_add_test(tc, kernel_triage_driver_names_from_pdb);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
