/*
 * test_unwind_dumps.c — the stack walker on real dumps.
 *
 * Wine full-memory x64 hang dumps: every thread unwinds through .pdata read
 * from dump memory down to ntdll!RtlUserThreadStart with exactly the frames
 * the dump's verify.json lists (module and module offset; a `module!name`
 * frame is resolved through the module's export table in dump memory, and a
 * name exports cannot give (a PDB-only function) through the build's PDB:
 * same function name, same offset; the gcc build's DWARF-named frames, which
 * we cannot name, by module and depth).
 * Breakpad's XP x86 minidump2: the EBP chain reproduces minidump_stackwalk's
 * frames, and scanning finds the same caller when EBP is withheld.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "formats/pe.h"
#include "base/mapped_file.h"
#include "model/kernel_dump.h"
#include "unwind/stackwalk.h"
#include "symbols/symbolizer.h"
#include "unwind/symbol_hooks.h"

typedef struct {
    dt_mapped_file file;
    dt_minidump *md;
} opened_dump;

static void open_dump(opened_dump *d, const char *rel)
{
    dt_error err = { 0 };
    ck_assert_msg(dt_mapped_file_open(&d->file, dt_test_data(rel), &err) == DT_OK, "%s", err.message);
    ck_assert_msg(dt_minidump_parse(d->file.view, &d->md, &err) == DT_OK, "%s: %s", rel, err.message);
}

static void close_dump(opened_dump *d)
{
    dt_minidump_free(d->md);
    dt_mapped_file_close(&d->file);
}

static cJSON *load_json(const char *rel)
{
    size_t n;
    unsigned char *text = dt_test_read_file(dt_test_data(rel), &n);
    ck_assert_ptr_nonnull(text);
    cJSON *j = cJSON_ParseWithLength((const char *)text, n);
    free(text);
    ck_assert_ptr_nonnull(j);
    return j;
}

static dt_status walk_thread(const dt_minidump *md, const dt_md_thread *t, dt_stack *st)
{
    const dt_cpu_context *ctx = dt_minidump_thread_context(md, t);
    ck_assert_ptr_nonnull(ctx);
    dt_stackwalk_input in = {
        .arch = md->system.arch,
        .start = ctx,
        .memory = dt_minidump_addrspace(md),
        .modules = &md->modules,
        .stack_low = t->stack_start,
        .stack_high = t->stack_start + t->stack_size,
    };
    dt_error err = { 0 };
    dt_status s = dt_stackwalk(&in, st, &err);
    ck_assert_msg(s == DT_OK, "%s", err.message);
    return s;
}

/* "kernelbase.dll!ReadFile+0x148" / "hello_block.exe+0x13ae" */
typedef struct {
    char module[128];
    char name[256]; /* "" when the frame is module+offset */
    uint64_t offset;
    bool dwarf;     /* "mod!fn (file.c:12:3)": named from DWARF, no offset */
} expected_frame;

static void parse_expected(const char *s, expected_frame *e)
{
    memset(e, 0, sizeof *e);
    const char *bang = strchr(s, '!');
    const char *paren = strstr(s, " (");
    if (bang && paren && paren > bang) {
        e->dwarf = true;
        snprintf(e->module, sizeof e->module, "%.*s", (int)(bang - s), s);
        snprintf(e->name, sizeof e->name, "%.*s", (int)(paren - bang - 1), bang + 1);
        return;
    }
    const char *plus = strrchr(s, '+');
    ck_assert_ptr_nonnull(plus);
    const char *mod_end = bang ? bang : plus;
    snprintf(e->module, sizeof e->module, "%.*s", (int)(mod_end - s), s);
    if (bang)
        snprintf(e->name, sizeof e->name, "%.*s", (int)(plus - bang - 1), bang + 1);
    e->offset = strtoull(plus + 1, NULL, 16);
}

/* A frame named from the PDB: the symbolizer over the build's symbols must
 * give the same function and offset.  Caller frames are looked up at the
 * return address - 1 (the call instruction), as the walker's users do. */
static void check_pdb_name(dt_symbolizer *sym, const dt_frame *f, int index, const expected_frame *e,
                           const dt_addrspace *as, const char *what)
{
    uint64_t at = index == 0 ? f->ip : f->ip - 1;
    dt_symbol s = { 0 };
    ck_assert_msg(dt_symbolizer_lookup(sym, f->module, as, at, &s), "%s: no symbol for %s", what, e->name);
    uint64_t off = s.function_offset + (index == 0 ? 0 : 1);
    ck_assert_msg(s.function && strcmp(s.function, e->name) == 0 && off == e->offset,
                  "%s: %s+0x%llx, expected %s+0x%llx", what, s.function ? s.function : "(none)",
                  (unsigned long long)off, e->name, (unsigned long long)e->offset);
    ck_assert_str_eq(s.provider, "pdb");
    dt_symbol_clear(&s);
}

static void check_wine_dump(const char *dump_rel, const char *verify_rel, const char *symbols_rel,
                            size_t *exports_checked, size_t *frames_checked, size_t *pdb_checked)
{
    opened_dump d;
    open_dump(&d, dump_rel);
    const char *symdirs[] = { dt_test_data(symbols_rel) };
    dt_error serr = { 0 };
    dt_symbolizer *sym = dt_symbolizer_new(symdirs, 1, &serr);
    ck_assert_msg(sym != NULL, "%s", serr.message);
    cJSON *verify = load_json(verify_rel);
    const dt_addrspace *as = dt_minidump_addrspace(d.md);
    cJSON *threads = cJSON_GetObjectItem(verify, "threads");
    ck_assert_int_gt(cJSON_GetArraySize(threads), 0);
    cJSON *jt;
    cJSON_ArrayForEach(jt, threads) {
        uint32_t tid = (uint32_t)cJSON_GetObjectItem(jt, "tid")->valuedouble;
        cJSON *stack = cJSON_GetObjectItem(jt, "stack");
        const dt_md_thread *t = dt_minidump_find_thread(d.md, tid);
        ck_assert_ptr_nonnull(t);
        dt_stack st;
        walk_thread(d.md, t, &st);
        int n = cJSON_GetArraySize(stack);
        const char *last = cJSON_GetArrayItem(stack, n - 1)->valuestring;
        ck_assert_msg(strstr(last, "ntdll.dll!RtlUserThreadStart+") == last, "%s tid %u ends at %s",
                      dump_rel, tid, last);
        ck_assert_msg(st.count == (size_t)n, "%s tid %u: %zu frames, expected %d (stop: %s)", dump_rel, tid,
                      st.count, n, st.stop_reason);
        for (int i = 0; i < n; i++) {
            expected_frame e;
            parse_expected(cJSON_GetArrayItem(stack, i)->valuestring, &e);
            const dt_frame *f = &st.frames[i];
            ck_assert_msg(f->module && strcasecmp(f->module->code_file, e.module) == 0,
                          "%s tid %u frame %d: module %s, expected %s", dump_rel, tid, i,
                          f->module ? f->module->code_file : "(none)", e.module);
            ck_assert_int_eq(f->trust, i == 0 ? DT_TRUST_CONTEXT : DT_TRUST_CFI);
            (*frames_checked)++;
            if (e.dwarf)
                continue; /* a DWARF name: we read no DWARF, the module and depth are checked */
            if (!e.name[0]) {
                ck_assert_msg(f->module_offset == e.offset, "%s tid %u frame %d: +0x%llx, expected +0x%llx",
                              dump_rel, tid, i, (unsigned long long)f->module_offset,
                              (unsigned long long)e.offset);
                continue;
            }
            dt_pe pe;
            ck_assert_int_eq(dt_pe_open_mapped(&pe, as, f->module->base, NULL), DT_OK);
            uint32_t rva;
            if (dt_pe_export_find(&pe, e.name, &rva)) {
                ck_assert_msg(f->module_offset == rva + e.offset, "%s tid %u frame %d: %s+0x%llx is +0x%llx, walked +0x%llx",
                              dump_rel, tid, i, e.name, (unsigned long long)e.offset,
                              (unsigned long long)(rva + e.offset), (unsigned long long)f->module_offset);
                /* and the reverse lookup names the same export */
                const char *name;
                uint32_t off;
                ck_assert(dt_pe_export_lookup(&pe, (uint32_t)f->module_offset, &name, &off));
                ck_assert_uint_eq(off, e.offset);
                (*exports_checked)++;
            } else {
                char what[200];
                snprintf(what, sizeof what, "%s tid %u frame %d", dump_rel, tid, i);
                check_pdb_name(sym, f, i, &e, as, what);
                (*pdb_checked)++;
            }
            dt_pe_close(&pe);
        }
        dt_stack_free(&st);
    }
    cJSON_Delete(verify);
    dt_symbolizer_free(sym);
    close_dump(&d);
}

START_TEST(wine_threads_unwind_to_rtl_user_thread_start)
{
    /* The clang builds carry PDBs; the gcc (mingw) build written by
     * Wine's raw dumper names its frames from DWARF in its verify file. */
    static const char *const dumps[][3] = {
        { "wine/hello_block.dmp.gz", "wine/hello_block.verify.json", "wine/bin/clang" },
        { "wine/multi_hang.dmp.gz", "wine/multi_hang.verify.json", "wine/bin/clang" },
        { "wine/crash_av.dmp.gz", "wine/crash_av.verify.json", "wine/bin/clang" },
        { "wine/multi_hang_gcc_wineraw.dmp.gz", "wine/multi_hang_gcc_wineraw.verify.json", "wine/bin/gcc" },
    };
    size_t exports_checked = 0, frames_checked = 0, pdb_checked = 0;
    check_wine_dump(dumps[_i][0], dumps[_i][1], dumps[_i][2], &exports_checked, &frames_checked, &pdb_checked);
    fprintf(stderr, "%s: %zu frames compared, %zu resolved through exports, %zu through the PDB\n", dumps[_i][0],
            frames_checked, exports_checked, pdb_checked);
    ck_assert_uint_gt(exports_checked, 0);
    if (strcmp(dumps[_i][2], "wine/bin/clang") == 0)
        ck_assert_uint_gt(pdb_checked, 0);
    ck_assert_uint_gt(frames_checked, 5);
}
END_TEST

/* minidump_stackwalk (with symbols) gives, for the crashing thread:
 *   0 0x0040429e esp 0x0012fe84 (context)  1 0x00404200 esp 0x0012fe90
 *   2 0x004053ec esp 0x0012ff78            3 0x7c816fd7 esp 0x0012ffc8
 * The EBP chain alone must find the same frames. */
START_TEST(x86_breakpad_minidump2_ebp_chain_and_scan)
{
    opened_dump d;
    open_dump(&d, "user/breakpad__minidump2.dmp");
    ck_assert_int_eq(d.md->system.arch, DT_ARCH_X86);
    ck_assert(d.md->exception.present);
    const dt_md_thread *t = dt_minidump_find_thread(d.md, d.md->exception.thread_id);
    ck_assert_ptr_nonnull(t);
    dt_stack st;
    walk_thread(d.md, t, &st);
    static const uint64_t ip[] = { 0x0040429e, 0x00404200, 0x004053ec, 0x7c816fd7 };
    static const uint64_t sp[] = { 0x0012fe84, 0x0012fe90, 0x0012ff78, 0x0012ffc8 };
    ck_assert_uint_eq(st.count, 4); /* the zeroed start frame ends it, as in Breakpad */
    ck_assert_str_eq(st.stop_reason, "end of stack (return address 0)");
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(st.frames[i].ip, ip[i]);
        ck_assert_uint_eq(st.frames[i].sp, sp[i]);
        ck_assert_int_eq(st.frames[i].trust, i == 0 ? DT_TRUST_CONTEXT : DT_TRUST_FRAME_POINTER);
    }
    ck_assert_str_eq(st.frames[1].module->code_file, "test_app.exe");
    ck_assert_str_eq(st.frames[3].module->code_file, "kernel32.dll");
    ck_assert_uint_eq(st.frames[3].module_offset, 0x16fd7);
    dt_stack_free(&st);

    /* Without EBP the first caller must come from scanning, after which the
     * recovered EBP lets the chain resume. */
    dt_cpu_context ctx = *dt_minidump_thread_context(d.md, t);
    ctx.valid &= ~(UINT64_C(1) << DT_X86_EBP);
    dt_stackwalk_input in = { .arch = DT_ARCH_X86, .start = &ctx, .memory = dt_minidump_addrspace(d.md),
                              .modules = &d.md->modules, .stack_low = t->stack_start,
                              .stack_high = t->stack_start + t->stack_size };
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    ck_assert_uint_ge(st.count, 3);
    ck_assert_int_eq(st.frames[1].trust, DT_TRUST_SCAN);
    ck_assert_uint_eq(st.frames[1].ip, ip[1]);
    ck_assert_uint_eq(st.frames[1].sp, sp[1]);
    ck_assert_int_eq(st.frames[2].trust, DT_TRUST_FRAME_POINTER);
    ck_assert_uint_eq(st.frames[2].ip, ip[2]);
    dt_stack_free(&st);

    /* Every thread of the dump walks without error and within bounds. */
    for (size_t i = 0; i < d.md->nthreads; i++) {
        if (!dt_minidump_thread_context(d.md, &d.md->threads[i]))
            continue;
        walk_thread(d.md, &d.md->threads[i], &st);
        ck_assert_uint_ge(st.count, 1);
        ck_assert_ptr_nonnull(st.stop_reason);
        dt_stack_free(&st);
    }
    close_dump(&d);
}
END_TEST

/* With the Breakpad symbols minidump_stackwalk used (test_app.sym,
 * kernel32.sym), every frame comes from STACK WIN programs: "Found by: call
 * frame info" for frames 1-3, the same ip/sp, and kernel32's PUBLIC-only
 * symbols accept BaseProcessStart+0x23. */
START_TEST(x86_breakpad_minidump2_with_stack_win)
{
    char dir[] = "/tmp/dt_unwind_syms_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char link_app[256], link_k32[256];
    snprintf(link_app, sizeof link_app, "%s/test_app.sym", dir);
    snprintf(link_k32, sizeof link_k32, "%s/kernel32.sym", dir);
    ck_assert_int_eq(symlink(dt_test_data("symbols/breakpad__test_app.sym"), link_app), 0);
    ck_assert_int_eq(symlink(dt_test_data("symbols/breakpad__kernel32.sym"), link_k32), 0);
    const char *dirs[] = { dir };
    dt_symbolizer *sym = dt_symbolizer_new(dirs, 1, NULL);
    ck_assert_ptr_nonnull(sym);

    opened_dump d;
    open_dump(&d, "user/breakpad__minidump2.dmp");
    dt_symbol_hooks hctx;
    dt_stackwalk_hooks hooks;
    dt_symbol_hooks_init(&hctx, &hooks, sym, dt_minidump_addrspace(d.md));
    const dt_md_thread *t = dt_minidump_find_thread(d.md, d.md->exception.thread_id);
    dt_stackwalk_input in = { .arch = DT_ARCH_X86, .start = dt_minidump_thread_context(d.md, t),
                              .memory = dt_minidump_addrspace(d.md), .modules = &d.md->modules,
                              .stack_low = t->stack_start, .stack_high = t->stack_start + t->stack_size,
                              .hooks = &hooks };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);
    static const uint64_t ip[] = { 0x0040429e, 0x00404200, 0x004053ec, 0x7c816fd7 };
    static const uint64_t sp[] = { 0x0012fe84, 0x0012fe90, 0x0012ff78, 0x0012ffc8 };
    ck_assert_uint_eq(st.count, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(st.frames[i].ip, ip[i]);
        ck_assert_uint_eq(st.frames[i].sp, sp[i]);
        ck_assert_str_eq(dt_frame_trust_name(st.frames[i].trust), i == 0 ? "context" : "cfi");
    }
    dt_stack_free(&st);
    dt_symbol_hooks_free(&hctx);
    close_dump(&d);
    dt_symbolizer_free(sym);
    unlink(link_app);
    unlink(link_k32);
    rmdir(dir);
}
END_TEST

/* A MiniDumpNormal dump holds no code: with the symbolizer's hooks the walker
 * takes dfpipe.dll and multi_hang.exe from the symbol directory and unwinds
 * through their .pdata, reproducing the full-memory dump's frames where
 * scanning alone picks up stale return addresses. */
START_TEST(winedbg_dump_uses_images_from_symbol_directory)
{
    opened_dump full, mini;
    open_dump(&full, "wine/multi_hang.dmp.gz");
    open_dump(&mini, "wine/multi_hang_winedbg.dmp.gz");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dt_test_data("wine/bin/clang")); /* dt_test_data reuses its buffer */
    const char *dirs[] = { dir };
    dt_error err = { 0 };
    dt_symbolizer *sym = dt_symbolizer_new(dirs, 1, &err);
    ck_assert_msg(sym != NULL, "%s", err.message);
    dt_symbol_hooks hctx;
    dt_stackwalk_hooks hooks;
    dt_symbol_hooks_init(&hctx, &hooks, sym, dt_minidump_addrspace(mini.md));

    const uint32_t tid = 248; /* pipe-server: ConnectNamedPipe in dfpipe.dll */
    dt_stack want, got;
    walk_thread(full.md, dt_minidump_find_thread(full.md, tid), &want);
    const dt_md_thread *t = dt_minidump_find_thread(mini.md, tid);
    ck_assert_ptr_nonnull(t);
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = dt_minidump_thread_context(mini.md, t),
                              .memory = dt_minidump_addrspace(mini.md), .modules = &mini.md->modules,
                              .stack_low = t->stack_start, .stack_high = t->stack_start + t->stack_size,
                              .hooks = &hooks };
    ck_assert_int_eq(dt_stackwalk(&in, &got, NULL), DT_OK);
    ck_assert_uint_eq(want.count, 7);
    ck_assert_uint_ge(got.count, want.count);
    for (size_t i = 0; i < want.count; i++) {
        ck_assert_str_eq(got.frames[i].module->code_file, want.frames[i].module->code_file);
        ck_assert_uint_eq(got.frames[i].module_offset, want.frames[i].module_offset);
    }
    /* dfpipe.dll and multi_hang.exe frames: .pdata from the PE files */
    ck_assert_str_eq(got.frames[2].module->code_file, "dfpipe.dll");
    ck_assert_int_eq(got.frames[3].trust, DT_TRUST_CFI);
    ck_assert_int_eq(got.frames[4].trust, DT_TRUST_CFI);
    ck_assert_int_eq(got.frames[5].trust, DT_TRUST_CFI);
    dt_stack_free(&want);
    dt_stack_free(&got);

    /* Without the hooks the same thread is only scanned. */
    in.hooks = NULL;
    ck_assert_int_eq(dt_stackwalk(&in, &got, NULL), DT_OK);
    for (size_t i = 1; i < got.count; i++)
        ck_assert_int_eq(got.frames[i].trust, DT_TRUST_SCAN);
    dt_stack_free(&got);
    dt_symbol_hooks_free(&hctx);
    dt_symbolizer_free(sym);
    close_dump(&mini);
    close_dump(&full);
}
END_TEST

/* Kernel triage dump (Win10 x64, bugcheck 0x1000007E): from the exception
 * CONTEXT the bugcheck names (parameter 4), with amdppm.sys and
 * Wdf01000.sys taken from the kernel symbol store, the walker crosses
 * amdppm, Wdf01000 and into nt!IofCallDriver through .pdata: the same 17
 * (ip, sp) pairs as rizin's PDB-driven backtrace, frames 8-24. */
START_TEST(kernel_triage_dump_unwinds_drivers_from_symbol_store)
{
    dt_mapped_file f;
    dt_kernel_dump kd;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&f, dt_test_data("kernel/rizin__triage_x64.dmp"), &err), DT_OK);
    ck_assert_msg(dt_kernel_dump_open(f.view, NULL, &kd, &err) == DT_OK, "%s", err.message);
    ck_assert_uint_eq(kd.header.bugcheck_code, 0x1000007E);
    uint8_t record[DT_CONTEXT_AMD64_SIZE];
    ck_assert(dt_as_read_exact(&kd.as, kd.header.bugcheck_params[3], record, sizeof record));
    dt_cpu_context ctx;
    ck_assert_int_eq(dt_cpu_context_parse(DT_ARCH_AMD64, dt_view_make(record, sizeof record), &ctx, NULL), DT_OK);

    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dt_test_data("symstore-kernel"));
    const char *dirs[] = { dir };
    dt_symbolizer *sym = dt_symbolizer_new(dirs, 1, NULL);
    ck_assert_ptr_nonnull(sym);
    dt_symbol_hooks hctx;
    dt_stackwalk_hooks hooks;
    dt_symbol_hooks_init(&hctx, &hooks, sym, &kd.as);
    dt_stackwalk_input in = { .arch = DT_ARCH_AMD64, .start = &ctx, .memory = &kd.as, .modules = &kd.drivers,
                              .hooks = &hooks };
    dt_stack st;
    ck_assert_int_eq(dt_stackwalk(&in, &st, NULL), DT_OK);

    /* rizin: "N  0xIP sp: 0xSP ..." */
    size_t n;
    unsigned char *text = dt_test_read_file(dt_test_data("expected/rizin__triage_x64.dbt.txt"), &n);
    ck_assert_ptr_nonnull(text);
    uint64_t ip[64], sp[64];
    size_t count = 0;
    for (char *line = strtok((char *)text, "\n"); line && count < 64; line = strtok(NULL, "\n")) {
        unsigned idx;
        unsigned long long a, b;
        if (sscanf(line, "%u 0x%llx sp: 0x%llx", &idx, &a, &b) == 3 && idx == count) {
            ip[count] = a;
            sp[count] = b;
            count++;
        }
    }
    free(text);
    ck_assert_uint_eq(count, 37);
    ck_assert_uint_ge(st.count, 17);
    for (size_t i = 0; i < 17; i++) {
        ck_assert_msg(st.frames[i].ip == ip[8 + i] && st.frames[i].sp == sp[8 + i],
                      "frame %zu: %llx/%llx, rizin %llx/%llx", i, (unsigned long long)st.frames[i].ip,
                      (unsigned long long)st.frames[i].sp, (unsigned long long)ip[8 + i],
                      (unsigned long long)sp[8 + i]);
        ck_assert_int_eq(st.frames[i].trust, i == 0 ? DT_TRUST_CONTEXT : DT_TRUST_CFI);
    }
    ck_assert_str_eq(st.frames[0].module->code_file, "amdppm.sys");
    ck_assert_uint_eq(st.frames[0].module_offset, 0x334c);
    ck_assert_str_eq(st.frames[6].module->code_file, "Wdf01000.sys");
    dt_stack_free(&st);
    dt_symbol_hooks_free(&hctx);
    dt_symbolizer_free(sym);
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
}
END_TEST

static Suite *unwind_dumps_suite(void)
{
    Suite *s = suite_create("unwind_dumps");
    TCase *tc = tcase_create("unwind_dumps");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, wine_threads_unwind_to_rtl_user_thread_start, 0, 4);
    tcase_add_test(tc, x86_breakpad_minidump2_ebp_chain_and_scan);
    tcase_add_test(tc, x86_breakpad_minidump2_with_stack_win);
    tcase_add_test(tc, winedbg_dump_uses_images_from_symbol_directory);
    tcase_add_test(tc, kernel_triage_dump_unwinds_drivers_from_symbol_store);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(unwind_dumps_suite)
