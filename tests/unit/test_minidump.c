/*
 * test_minidump.c — the MDMP parser and the user report against real dumps
 * (issue #2 acceptance):
 *   - breakpad__minidump2.dmp: every thread, stack range, module and the
 *     exception equal Breakpad's minidump_dump output (the oracle file in
 *     tests/data/expected), and the Breakpad dump thread is set apart;
 *   - the Wine dumps: modules, thread ids and names equal *.verify.json;
 *   - every real dump in tests/data/user: arch, thread/module counts, pid,
 *     exception code;
 *   - the descriptive streams (MiscInfo v5, ThreadNames, UnloadedModuleList,
 *     HandleData, MemoryInfoList, Token, ProcessVmCounters, ThreadInfoList,
 *     CrashpadInfo) on the dumps that carry them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "base/mapped_file.h"
#include "base/json.h"
#include "report/user_report.h"

typedef struct {
    dt_mapped_file file;
    dt_minidump *md;
} opened;

static void open_dump(opened *o, const char *rel)
{
    dt_error err = { 0 };
    ck_assert_msg(dt_mapped_file_open(&o->file, dt_test_data(rel), &err) == DT_OK, "%s: %s", rel,
                  err.message);
    ck_assert_msg(dt_minidump_parse(o->file.view, &o->md, &err) == DT_OK, "%s: %s", rel, err.message);
}

static void close_dump(opened *o)
{
    dt_minidump_free(o->md);
    dt_mapped_file_close(&o->file);
}

static const dt_module *module_named(const dt_minidump *md, const char *path)
{
    for (size_t i = 0; i < md->modules.count; i++)
        if (strcasecmp(md->modules.items[i].path, path) == 0)
            return &md->modules.items[i];
    return NULL;
}

/* ---- Breakpad's minidump_dump output as the oracle ----------------------- */

typedef struct {
    uint32_t tid;
    uint64_t stack_start, stack_size;
} oracle_thread;
typedef struct {
    uint64_t base, size;
    char name[256], debug_id[64];
} oracle_module;

static uint64_t value_after_eq(const char *line)
{
    const char *eq = strchr(line, '=');
    return eq ? strtoull(eq + 1, NULL, 0) : 0;
}

static void quoted_after_eq(const char *line, char *out, size_t n)
{
    const char *q = strchr(line, '"');
    const char *e = q ? strrchr(line, '"') : NULL;
    out[0] = '\0';
    if (q && e > q)
        snprintf(out, n, "%.*s", (int)(e - q - 1), q + 1);
}

static void read_oracle(oracle_thread *th, size_t *nth, oracle_module *mods, size_t *nmods)
{
    FILE *f = fopen(dt_test_data("expected/breakpad__minidump2.dump.out"), "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    enum { NONE, THREAD, MODULE } in = NONE;
    *nth = *nmods = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "MDRawThread", 11) == 0) {
            in = THREAD;
            (*nth)++;
        } else if (strncmp(line, "MDRawModule", 11) == 0) {
            in = MODULE;
            (*nmods)++;
        } else if (line[0] != ' ') {
            if (line[0] != '\n')
                in = NONE;
        } else if (in == THREAD) {
            oracle_thread *t = &th[*nth - 1];
            if (strstr(line, "thread_id "))
                t->tid = (uint32_t)value_after_eq(line);
            else if (strstr(line, "stack.start_of_memory_range"))
                t->stack_start = value_after_eq(line);
            else if (strstr(line, "stack.memory.data_size"))
                t->stack_size = value_after_eq(line);
        } else if (in == MODULE) {
            oracle_module *m = &mods[*nmods - 1];
            if (strstr(line, "base_of_image"))
                m->base = value_after_eq(line);
            else if (strstr(line, "size_of_image"))
                m->size = value_after_eq(line);
            else if (strstr(line, "(code_file)"))
                quoted_after_eq(line, m->name, sizeof m->name);
            else if (strstr(line, "(debug_identifier)"))
                quoted_after_eq(line, m->debug_id, sizeof m->debug_id);
        }
    }
    fclose(f);
}

START_TEST(minidump2_matches_breakpad_oracle)
{
    oracle_thread th[8] = { 0 };
    oracle_module mods[32] = { 0 };
    size_t nth, nmods;
    read_oracle(th, &nth, mods, &nmods);
    ck_assert_uint_eq(nth, 2);
    ck_assert_uint_eq(nmods, 13);

    opened o;
    open_dump(&o, "user/breakpad__minidump2.dmp");
    const dt_minidump *md = o.md;
    ck_assert_uint_eq(md->nthreads, nth);
    for (size_t i = 0; i < nth; i++) {
        ck_assert_uint_eq(md->threads[i].thread_id, th[i].tid);
        ck_assert_uint_eq(md->threads[i].stack_start, th[i].stack_start);
        ck_assert_uint_eq(md->threads[i].stack_size, th[i].stack_size);
        ck_assert(md->threads[i].stack_in_file);
    }
    ck_assert_uint_eq(md->modules.count, nmods);
    for (size_t i = 0; i < nmods; i++) {
        const dt_module *m = module_named(md, mods[i].name);
        ck_assert_msg(m != NULL, "module %s", mods[i].name);
        ck_assert_uint_eq(m->base, mods[i].base);
        ck_assert_uint_eq(m->size, mods[i].size);
        ck_assert_str_eq(m->debug_id, mods[i].debug_id);
    }
    /* Sorted by base for the walker's lookups. */
    for (size_t i = 1; i < md->modules.count; i++)
        ck_assert(md->modules.items[i - 1].base < md->modules.items[i].base);
    const dt_module *app = dt_module_list_find(&md->modules, 0x40429e);
    ck_assert_ptr_nonnull(app);
    ck_assert_str_eq(app->code_file, "test_app.exe");
    ck_assert_str_eq(app->debug_file, "test_app.pdb");
    ck_assert_str_eq(app->code_id, "45D35F6C2D000");
    const dt_module *k32 = module_named(md, "C:\\WINDOWS\\system32\\kernel32.dll");
    ck_assert_str_eq(k32->version, "5.1.2600.2945");

    /* The exception: a write access violation at 0x45. */
    ck_assert(md->exception.present);
    ck_assert_uint_eq(md->exception.thread_id, 0xbf4);
    ck_assert_uint_eq(md->exception.code, 0xC0000005);
    ck_assert_uint_eq(md->exception.address, 0x40429e);
    ck_assert_uint_eq(md->exception.nparams, 2);
    ck_assert_uint_eq(md->exception.params[0], 1);
    ck_assert_uint_eq(md->exception.params[1], 0x45);
    ck_assert(md->exception.has_context);

    /* Contexts as the oracle prints them. */
    uint64_t v;
    ck_assert_int_eq(md->system.arch, DT_ARCH_X86);
    ck_assert_uint_eq(md->threads[0].context.context_flags, 0x1003f);
    ck_assert(dt_ctx_get(&md->threads[0].context, DT_X86_EIP, &v));
    ck_assert_uint_eq(v, 0x7c90eb94);
    ck_assert(dt_ctx_get(&md->threads[0].context, DT_X86_ESP, &v));
    ck_assert_uint_eq(v, 0x12f320);
    ck_assert(dt_ctx_get(&md->threads[1].context, DT_X86_EBP, &v));
    ck_assert_uint_eq(v, 0x97f6fc);
    const dt_cpu_context *exctx = dt_minidump_thread_context(md, &md->threads[0]);
    ck_assert_ptr_eq(exctx, &md->exception.context);
    ck_assert(dt_ctx_get(exctx, DT_X86_EIP, &v));
    ck_assert_uint_eq(v, 0x40429e);
    ck_assert(dt_ctx_get(exctx, DT_X86_EBP, &v));
    ck_assert_uint_eq(v, 0x12fe88);

    /* System, misc and Breakpad info. */
    ck_assert_uint_eq(md->system.build, 2600);
    ck_assert_str_eq(md->system.csd_version, "Service Pack 2");
    ck_assert_str_eq(md->system.vendor_id, "GenuineIntel");
    ck_assert(md->misc.has_pid);
    ck_assert_uint_eq(md->misc.pid, 3932);
    ck_assert_uint_eq(md->misc.create_time, 0x45d35f73);
    ck_assert(md->breakpad.present);
    ck_assert_uint_eq(md->breakpad.dump_thread_id, 0x11c0);
    ck_assert(md->threads[1].is_dump_thread);
    ck_assert(!md->threads[0].is_dump_thread);
    ck_assert_uint_eq(md->warnings.count, 0);
    close_dump(&o);
}
END_TEST

START_TEST(minidump2_report_json)
{
    opened o;
    open_dump(&o, "user/breakpad__minidump2.dmp");
    cJSON *u = dt_user_report(o.md);
    ck_assert_ptr_nonnull(u);
    const cJSON *si = cJSON_GetObjectItem(u, "system_info");
    ck_assert_str_eq(dt_json_get_str(si, "os"), "Windows NT");
    ck_assert_str_eq(dt_json_get_str(si, "os_ver"), "5.1.2600 Service Pack 2");
    ck_assert_str_eq(dt_json_get_str(si, "cpu_arch"), "x86");
    ck_assert_str_eq(dt_json_get_str(si, "cpu_info"), "GenuineIntel family 6 model 13 stepping 8");
    const cJSON *c = cJSON_GetObjectItem(u, "crash_info");
    ck_assert_str_eq(dt_json_get_str(c, "type"), "EXCEPTION_ACCESS_VIOLATION_WRITE");
    ck_assert_str_eq(dt_json_get_str(c, "address"), "0x45");
    ck_assert_str_eq(dt_json_get_str(c, "code"), "0xc0000005");
    ck_assert_int_eq((int)dt_json_get_num(c, "crashing_thread", -1), 0);
    ck_assert_int_eq((int)dt_json_get_num(c, "thread_id", -1), 0xbf4);
    ck_assert_int_eq((int)dt_json_get_num(u, "pid", -1), 3932);
    /* The dump thread is set apart, not listed among the process's threads. */
    const cJSON *threads = cJSON_GetObjectItem(u, "threads");
    ck_assert_int_eq(cJSON_GetArraySize(threads), 1);
    const cJSON *t0 = cJSON_GetArrayItem(threads, 0);
    ck_assert_int_eq((int)dt_json_get_num(t0, "thread_id", 0), 0xbf4);
    ck_assert_str_eq(dt_json_get_str(t0, "stack_start"), "0x12f31c");
    ck_assert_str_eq(dt_json_get_str(t0, "stack_end"), "0x130000");
    const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "frames"), 0);
    ck_assert_str_eq(dt_json_get_str(f0, "ip"), "0x40429e");
    ck_assert_str_eq(dt_json_get_str(f0, "trust"), "context");
    ck_assert_str_eq(dt_json_get_str(f0, "module"), "test_app.exe");
    ck_assert_str_eq(dt_json_get_str(f0, "module_offset"), "0x429e");
    ck_assert_str_eq(dt_json_get_str(cJSON_GetObjectItem(t0, "registers"), "eip"), "0x40429e");
    const cJSON *dump = cJSON_GetObjectItem(u, "dump_thread");
    ck_assert_int_eq((int)dt_json_get_num(dump, "thread_id", 0), 0x11c0);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(u, "modules"), 0);
    ck_assert_str_eq(dt_json_get_str(m0, "base_addr"), "0x400000");
    ck_assert_str_eq(dt_json_get_str(m0, "end_addr"), "0x42d000");
    ck_assert_str_eq(dt_json_get_str(m0, "debug_id"), "5A9832E5287241C1838ED98914E9B7FF1");
    ck_assert(dt_json_get_bool(m0, "main"));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(u, "streams")), 7);

    /* The text renderer works from the JSON alone. */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    dt_user_report_text(u, out);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(buf, "EXCEPTION_ACCESS_VIOLATION_WRITE (0xc0000005) at 0x45"));
    ck_assert_ptr_nonnull(strstr(buf, "test_app.exe+0x429e"));
    ck_assert_ptr_nonnull(strstr(buf, "dump thread 0x11c0"));
    free(buf);
    cJSON_Delete(u);
    close_dump(&o);
}
END_TEST

START_TEST(x86_crash_address_is_32_bit)
{
    /* minidump_32bit_crash_addr has 0xFFFFFFFF above the 32-bit address. */
    opened o;
    open_dump(&o, "user/breakpad__minidump_32bit_crash_addr.dmp");
    ck_assert_uint_eq(o.md->exception.address, 0x40429e);
    close_dump(&o);
}
END_TEST

/* ---- the Wine dumps against verify.json ----------------------------------- */

/* verify.json prints the RSDS GUID as its 16 raw bytes in hex; the debug id
 * prints the first three fields little-endian. */
static void raw_guid_to_debug_id(const char *raw, unsigned age, char out[48])
{
    unsigned b[16];
    for (int i = 0; i < 16; i++)
        sscanf(raw + 2 * i, "%2x", &b[i]);
    snprintf(out, 48, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%X", b[3], b[2],
             b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15],
             age);
}

static const char *const wine_dumps[] = {
    "crash_av", "hello_block", "multi_hang", "multi_hang_gcc_wineraw", "multi_hang_winedbg",
};

START_TEST(wine_dump_matches_verify_json)
{
    const char *name = wine_dumps[_i];
    char rel[128];
    snprintf(rel, sizeof rel, "wine/%s.verify.json", name);
    size_t jlen;
    char *jtext = (char *)dt_test_read_file(dt_test_data(rel), &jlen);
    ck_assert_ptr_nonnull(jtext);
    cJSON *want = cJSON_ParseWithLength(jtext, jlen);
    free(jtext);
    ck_assert_ptr_nonnull(want);

    snprintf(rel, sizeof rel, "wine/%s.dmp.gz", name);
    opened o;
    open_dump(&o, rel);
    const dt_minidump *md = o.md;
    ck_assert(o.file.was_gzip);
    ck_assert_int_eq(md->system.arch, DT_ARCH_AMD64);

    const cJSON *mods = cJSON_GetObjectItem(want, "modules");
    ck_assert_uint_eq(md->modules.count, (size_t)cJSON_GetArraySize(mods));
    const cJSON *wm;
    cJSON_ArrayForEach(wm, mods) {
        const char *path = dt_json_get_str(wm, "name");
        const dt_module *m = module_named(md, path);
        ck_assert_msg(m != NULL, "%s: module %s", name, path);
        uint64_t base;
        ck_assert(dt_json_get_hex(wm, "base", &base));
        ck_assert_uint_eq(m->base, base);
        ck_assert_uint_eq(m->size, (uint64_t)dt_json_get_num(wm, "size", 0));
        const char *cv = dt_json_get_str(wm, "codeview");
        if (cv) {
            unsigned age = 0;
            char pdb[128] = "", id[48];
            ck_assert_int_eq(sscanf(cv + 33, "age=%u %127s", &age, pdb), 2);
            raw_guid_to_debug_id(cv, age, id);
            ck_assert_str_eq(m->debug_id, id);
            ck_assert_str_eq(m->debug_file, pdb);
        }
    }
    ck_assert_str_eq(md->main_module_path, dt_json_get_str(want, "exe"));

    const cJSON *threads = cJSON_GetObjectItem(want, "threads");
    ck_assert_uint_eq(md->nthreads, (size_t)cJSON_GetArraySize(threads));
    size_t i = 0;
    const cJSON *wt;
    cJSON_ArrayForEach(wt, threads) {
        const dt_md_thread *t = &md->threads[i++];
        ck_assert_uint_eq(t->thread_id, (uint32_t)dt_json_get_num(wt, "tid", 0));
        const char *wname = dt_json_get_str(wt, "name");
        if (wname && *wname)
            ck_assert_str_eq(t->name ? t->name : "(none)", wname);
        else
            ck_assert_ptr_null(t->name);
        uint64_t teb, rip, rsp, v;
        ck_assert(dt_json_get_hex(wt, "teb", &teb));
        ck_assert_uint_eq(t->teb, teb);
        const dt_cpu_context *ctx = dt_minidump_thread_context(md, t);
        ck_assert_ptr_nonnull(ctx);
        if (dt_json_get_hex(wt, "rip", &rip)) {
            ck_assert(dt_ctx_get(ctx, DT_AMD64_RIP, &v));
            ck_assert_uint_eq(v, rip);
        }
        if (dt_json_get_hex(wt, "rsp", &rsp)) {
            ck_assert(dt_ctx_get(ctx, DT_AMD64_RSP, &v));
            ck_assert_uint_eq(v, rsp);
        }
    }
    ck_assert_int_eq(md->has_memory64, dt_json_get_bool(want, "memory64"));
    if (md->has_memory64) {
        uint64_t bytes = (uint64_t)dt_json_get_num(want, "memory_bytes", 0);
        ck_assert_uint_eq(md->memory.total_bytes, bytes);
        ck_assert_uint_eq(md->memory.count, (size_t)dt_json_get_num(want, "memory_ranges", 0));
    }
    ck_assert_uint_eq(md->nregions, (size_t)dt_json_get_num(want, "memory_info_regions", 0));
    const char *comment = dt_json_get_str(want, "comment");
    if (comment)
        ck_assert_str_eq(md->comment_a ? md->comment_a : "", comment);
    cJSON_Delete(want);
    close_dump(&o);
}
END_TEST

START_TEST(wine_crash_av_exception)
{
    opened o;
    open_dump(&o, "wine/crash_av.dmp.gz");
    ck_assert(o.md->exception.present);
    ck_assert_uint_eq(o.md->exception.code, 0xC0000005);
    ck_assert_uint_eq(o.md->exception.params[0], 1);
    ck_assert_uint_eq(o.md->exception.params[1], 0x10);
    close_dump(&o);
}
END_TEST

/* ---- every real dump: key facts ------------------------------------------- */

static const struct {
    const char *file;
    dt_cpu_arch arch;
    size_t threads, modules;
    uint32_t pid;
    uint32_t exception; /* 0: no Exception stream */
} user_dumps[] = {
    { "breakpad__minidump2.dmp", DT_ARCH_X86, 2, 13, 3932, 0xc0000005 },
    { "breakpad__minidump_32bit_crash_addr.dmp", DT_ARCH_X86, 2, 13, 3932, 0xc0000005 },
    { "breakpad__thread_name_list.dmp", DT_ARCH_X86, 6, 17, 6040, 0xc0000005 },
    { "breakpad__tiny-exe-fastfail.dmp", DT_ARCH_AMD64, 4, 21, 41996, 0xc0000409 },
    { "breakpad__tiny-exe-with-cet-xsave-x86.dmp", DT_ARCH_X86, 3, 19, 79528, 0 },
    { "breakpad__tiny-exe-with-cet-xsave.dmp", DT_ARCH_AMD64, 1, 25, 15444, 0 },
    { "breakpad__write_av_non_canonical.dmp", DT_ARCH_AMD64, 2, 15, 22856, 0xc0000005 },
    { "crashdump-mcp__electron.dmp", DT_ARCH_AMD64, 47, 78, 18224, 0xc0000005 },
    { "crashdump-mcp__symbol-heavy.dmp", DT_ARCH_AMD64, 1, 5, 7088, 0xc0000005 },
    { "lldb__fizzbuzz_no_heap.dmp", DT_ARCH_X86, 1, 6, 4440, 0xc0000005 },
    { "lldb__sigsegv.dmp", DT_ARCH_AMD64, 1, 4, 13052, 0xc0000005 },
    { "node-minidump__windows.dmp", DT_ARCH_AMD64, 14, 58, 10148, 0xc0000005 },
    { "rizin__calc.dmp", DT_ARCH_AMD64, 5, 28, 3368, 0x80000003 },
    { "rust-minidump__invalid-parameter.dmp", DT_ARCH_AMD64, 6, 31, 6256, 0xc000000d },
    { "symbolicator__windows.dmp", DT_ARCH_X86, 4, 17, 1928, 0xc0000005 },
    { "syzygy__minidump-no-kasko-stream.dmp", DT_ARCH_X86, 39, 107, 15740, 0xc000008c },
    { "syzygy__notepad-larger-32bit.dmp", DT_ARCH_X86, 1, 22, 6408, 0x80000003 },
    { "syzygy__notepad-larger-64bit.dmp", DT_ARCH_AMD64, 1, 5, 5416, 0x80000003 },
    { "syzygy__notepad-small-32bit.dmp", DT_ARCH_X86, 1, 22, 6408, 0x80000003 },
    { "syzygy__notepad-small-64bit.dmp", DT_ARCH_AMD64, 1, 5, 5416, 0x80000003 },
    { "syzygy__use-after-free.dmp", DT_ARCH_X86, 39, 107, 15740, 0xc000008c },
};

START_TEST(user_dump_key_facts)
{
    char rel[128];
    snprintf(rel, sizeof rel, "user/%s", user_dumps[_i].file);
    opened o;
    open_dump(&o, rel);
    const dt_minidump *md = o.md;
    ck_assert_int_eq(md->system.arch, user_dumps[_i].arch);
    ck_assert_uint_eq(md->nthreads, user_dumps[_i].threads);
    ck_assert_uint_eq(md->modules.count, user_dumps[_i].modules);
    ck_assert(md->misc.has_pid);
    ck_assert_uint_eq(md->misc.pid, user_dumps[_i].pid);
    ck_assert_int_eq(md->exception.present, user_dumps[_i].exception != 0);
    if (user_dumps[_i].exception)
        ck_assert_uint_eq(md->exception.code, user_dumps[_i].exception);
    /* Sensible: every thread has an instruction pointer inside a module or
     * at least a context; the image is known; nothing was damaged. */
    size_t with_ctx = 0;
    for (size_t i = 0; i < md->nthreads; i++)
        with_ctx += dt_minidump_thread_context(md, &md->threads[i]) != NULL;
    ck_assert_uint_eq(with_ctx, md->nthreads);
    ck_assert_ptr_nonnull(md->main_module_path);
    ck_assert_msg(md->warnings.count == 0, "%s: %s", rel, md->warnings.count ? md->warnings.items[0] : "");
    cJSON *u = dt_user_report(md);
    ck_assert_ptr_nonnull(u);
    char *s = cJSON_PrintUnformatted(u);
    ck_assert_ptr_nonnull(s);
    cJSON *back = cJSON_Parse(s);
    ck_assert_ptr_nonnull(back);
    cJSON_Delete(back);
    free(s);
    cJSON_Delete(u);
    close_dump(&o);
}
END_TEST

/* ---- descriptive streams --------------------------------------------------- */

START_TEST(calc_misc_token_vm_counters)
{
    opened o;
    open_dump(&o, "user/rizin__calc.dmp");
    const dt_minidump *md = o.md;
    ck_assert_uint_eq(md->misc.size_of_info, 0x554);
    ck_assert_uint_eq(md->misc.flags1, 0x1d7);
    ck_assert(md->misc.has_timezone);
    ck_assert_str_eq(md->misc.tz_standard_name, "GMT Standard Time");
    ck_assert_str_eq(md->misc.tz_daylight_name, "GMT Daylight Time");
    ck_assert(md->misc.has_integrity);
    ck_assert_uint_eq(md->misc.integrity_level, 0x2000);
    ck_assert(md->misc.has_power);
    ck_assert_uint_eq(md->misc.max_mhz, 1300);
    ck_assert_str_eq(md->misc.build_string, "6.1.7601.18015 (win7sp1_gdr.121129-1432)");
    ck_assert_str_eq(md->misc.dbg_build_string, "dbgeng.amd64,10.0.14321.1024");
    ck_assert(md->token.present);
    ck_assert_uint_eq(md->token.token_count, 1);
    ck_assert_uint_eq(md->token.total_size, 0x308);
    ck_assert(md->vm_counters.present);
    ck_assert_uint_eq(md->vm_counters.revision, 2);
    ck_assert_uint_eq(md->vm_counters.page_fault_count, 8177);
    ck_assert_uint_eq(md->vm_counters.peak_working_set_size, 0x1ef6000);
    ck_assert(md->system_memory.present);
    ck_assert_uint_eq(md->system_memory.size, 0x1ec);
    ck_assert_str_eq(md->system.csd_version, "Service Pack 1");
    ck_assert_uint_eq(md->system.cpu_count, 2);
    const dt_md_thread *t0 = &md->threads[0];
    ck_assert_uint_eq(t0->thread_id, 0xd64);
    ck_assert_uint_eq(t0->teb, 0x7fffffde000);
    ck_assert_uint_eq(t0->context.context_flags, 0x10001f);
    uint64_t rip;
    ck_assert(dt_ctx_get(&t0->context, DT_AMD64_RIP, &rip));
    ck_assert_uint_eq(rip, 0x77639e6a);
    const dt_module *calc = module_named(md, "C:\\Windows\\System32\\calc.exe");
    ck_assert_ptr_nonnull(calc);
    ck_assert_str_eq(calc->debug_id, "E95BB5E08CE640A09C3DBF3DFA3ABCB42");
    ck_assert_str_eq(calc->debug_file, "calc.pdb");
    ck_assert_str_eq(calc->version, "6.1.7600.16385");
    close_dump(&o);
}
END_TEST

START_TEST(thread_names_and_build_strings)
{
    opened o;
    open_dump(&o, "user/breakpad__thread_name_list.dmp");
    const dt_minidump *md = o.md;
    ck_assert_str_eq(dt_minidump_find_thread(md, 0x19a4)->name, "main thread");
    ck_assert_str_eq(dt_minidump_find_thread(md, 0x2274)->name, "sleep thread");
    ck_assert_str_eq(dt_minidump_find_thread(md, 0x2ae0)->name, "overflow thread");
    ck_assert_str_eq(md->misc.build_string, "17763.1.x86fre.rs5_release.180914-1434");
    ck_assert_str_eq(md->misc.dbg_build_string, "dbgcore.i386,10.0.17763.1");
    /* CodeView records of size 0 leave the debug identity empty. */
    size_t without_cv = 0;
    for (size_t i = 0; i < md->modules.count; i++)
        without_cv += md->modules.items[i].debug_id[0] == '\0';
    ck_assert_uint_gt(without_cv, 0);
    close_dump(&o);
}
END_TEST

START_TEST(unloaded_handles_memory_info)
{
    opened o;
    open_dump(&o, "user/breakpad__tiny-exe-with-cet-xsave.dmp");
    const dt_minidump *md = o.md;
    bool shcore = false;
    for (size_t i = 0; i < md->nunloaded; i++)
        if (md->unloaded[i].base == 0x7ff90f450000 && md->unloaded[i].size == 0xea000 &&
            strcmp(md->unloaded[i].name, "shcore.dll") == 0)
            shcore = true;
    ck_assert(shcore);
    ck_assert(md->has_handle_stream);
    ck_assert_uint_gt(md->nhandles, 0);
    ck_assert_uint_eq(md->handles[0].handle, 0x4);
    ck_assert_str_eq(md->handles[0].type_name, "File");
    ck_assert_uint_eq(md->handles[0].granted_access, 0x12019f);
    ck_assert(md->has_memory_info);
    ck_assert_uint_gt(md->nregions, 10);
    /* CET: a CONTEXT_EX/XSTATE record longer than 0x4D0 still decodes. */
    ck_assert(md->threads[0].has_context);
    close_dump(&o);
}
END_TEST

START_TEST(crashpad_thread_info_streams)
{
    opened o;
    open_dump(&o, "user/crashdump-mcp__electron.dmp");
    ck_assert(o.md->crashpad.present);
    ck_assert_uint_eq(o.md->crashpad.version, 1);
    ck_assert_uint_eq(strlen(o.md->crashpad.report_id), 36);
    size_t named = 0;
    for (size_t i = 0; i < o.md->nthreads; i++)
        named += o.md->threads[i].name != NULL;
    ck_assert_uint_gt(named, 0);
    close_dump(&o);

    open_dump(&o, "user/lldb__fizzbuzz_no_heap.dmp");
    ck_assert(o.md->threads[0].has_info);
    ck_assert_uint_ne(o.md->threads[0].create_time, 0);
    close_dump(&o);
}
END_TEST

START_TEST(breakpad_assertion_info)
{
    opened o;
    open_dump(&o, "user/rust-minidump__invalid-parameter.dmp");
    const dt_md_assertion_info *a = &o.md->assertion;
    ck_assert(a->present);
    ck_assert_str_eq(a->expression, "format != nullptr");
    ck_assert_str_eq(a->function, "common_vfprintf");
    ck_assert_uint_eq(a->line, 32);
    ck_assert_uint_eq(a->type, 1);
    cJSON *u = dt_user_report(o.md);
    ck_assert_str_eq(dt_json_get_str(cJSON_GetObjectItem(u, "crash_info"), "assertion"),
                     "Invalid parameter passed to library function: format != nullptr");
    ck_assert_str_eq(dt_json_get_str(cJSON_GetObjectItem(u, "crash_info"), "type"), "STATUS_INVALID_PARAMETER");
    cJSON_Delete(u);
    close_dump(&o);
}
END_TEST

static Suite *minidump_suite(void)
{
    Suite *s = suite_create("minidump");
    TCase *tc = tcase_create("real dumps");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, minidump2_matches_breakpad_oracle);
    tcase_add_test(tc, minidump2_report_json);
    tcase_add_test(tc, x86_crash_address_is_32_bit);
    tcase_add_loop_test(tc, wine_dump_matches_verify_json, 0, (int)(sizeof wine_dumps / sizeof wine_dumps[0]));
    tcase_add_test(tc, wine_crash_av_exception);
    tcase_add_loop_test(tc, user_dump_key_facts, 0, (int)(sizeof user_dumps / sizeof user_dumps[0]));
    tcase_add_test(tc, calc_misc_token_vm_counters);
    tcase_add_test(tc, thread_names_and_build_strings);
    tcase_add_test(tc, unloaded_handles_memory_info);
    tcase_add_test(tc, crashpad_thread_info_streams);
    tcase_add_test(tc, breakpad_assertion_info);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(minidump_suite)
