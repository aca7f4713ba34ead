/*
 * test_generated_code.c — frames in generated (JIT) code (#19) on the real
 * Wine dump wine/inline_jit.dmp.gz: its "jit" thread sleeps in Sleep called
 * from 26 bytes of code the program wrote into PAGE_EXECUTE_READWRITE
 * memory and registered with RtlAddFunctionTable (one RUNTIME_FUNCTION,
 * UNWIND_INFO `sub rsp, 0x28`), called from df_run_generated.
 *
 * Wine's MiniDumpWriteDump writes no FunctionTable stream (its streams:
 * SystemInfo, ThreadList, ModuleList, MiscInfo, Memory64List, 0xFFF0, plus
 * what dumper.exe adds), so:
 *  - the dump as written: the JIT frame is accepted (executable memory per
 *    the MemoryInfoList) and labelled with its region, but its caller can
 *    only be scanned for, and the scan takes a stale return address
 *    (msvcrt!fflush) before df_run_generated;
 *  - with the stream appended by the test-only writer (the table the
 *    program logged in wine/logs/inline_jit.out): the JIT frame is unwound
 *    with its UNWIND_INFO from dump memory, and its caller is
 *    df_run_generated+0xa with trust cfi and sp = JIT sp + 0x30;
 *  - bad tables (absurd counts, UNWIND_INFO outside the dump, entries not
 *    covering the code) give warnings or fall back to scanning, never a
 *    wrong cfi frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "base/json.h"
#include "base/mapped_file.h"
#include "dt_test.h"
#include "function_table_writer.h"

typedef struct {
    unsigned long long base, size, code, end, unwind, table;
    unsigned jit_tid;
} logged;

/* "jit base=0xfa0000 size=0x10000 code=0xfa0100 end=0xfa011a unwind=0xfa0200 table=0xfa0300",
 * "thread jit tid=244" */
static logged read_log(void)
{
    logged l = { 0 };
    FILE *f = fopen(dt_test_data("wine/logs/inline_jit.out"), "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "jit base=%llx size=%llx code=%llx end=%llx unwind=%llx table=%llx", &l.base, &l.size,
                   &l.code, &l.end, &l.unwind, &l.table) == 6)
            got |= 1;
        if (sscanf(line, "thread jit tid=%u", &l.jit_tid) == 1)
            got |= 2;
    }
    fclose(f);
    ck_assert_int_eq(got, 3);
    return l;
}

static cJSON *analyze(const char *path)
{
    const char *syms[] = { dt_test_data("wine/bin/clang") };
    dt_analysis_request req = { .user_path = path, .symbol_paths = syms, .nsymbol_paths = 1 };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    return rep;
}

static cJSON *analyze_with_tables(const dt_test_function_table *t, size_t n)
{
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&f, dt_test_data("wine/inline_jit.dmp.gz"), &err), DT_OK);
    size_t size = 0;
    uint8_t *copy = dt_test_add_function_table_stream(f.view.data, f.view.size, t, n, &size);
    dt_mapped_file_close(&f);
    ck_assert_ptr_nonnull(copy);
    char path[] = "/tmp/dt_generated_code_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, copy, size), (ssize_t)size);
    close(fd);
    free(copy);
    cJSON *rep = analyze(path);
    unlink(path);
    return rep;
}

static const cJSON *jit_frames(const cJSON *rep, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "user"), "threads"))
    {
        uint64_t id;
        if (dt_json_u64(t, "thread_id", &id) && id == tid)
            return cJSON_GetObjectItem(t, "frames");
    }
    ck_abort_msg("no thread %u", tid);
    return NULL;
}

static uint64_t hex(const cJSON *o, const char *k)
{
    uint64_t v = 0;
    ck_assert_msg(dt_json_u64(o, k, &v), "no %s", k);
    return v;
}

static const char *str(const cJSON *o, const char *k)
{
    const char *s = dt_json_get_str(o, k);
    return s ? s : "";
}

/* The JIT frame: index 2, after ntdll!NtDelayExecution and kernelbase!Sleep. */
static const cJSON *check_jit_frame(const cJSON *frames, const logged *l)
{
    ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 1), "function"), "Sleep");
    const cJSON *j = cJSON_GetArrayItem(frames, 2);
    ck_assert_ptr_nonnull(j);
    uint64_t ip = hex(j, "ip");
    ck_assert(ip > l->code && ip <= l->end); /* the return address after `call rax` */
    ck_assert_uint_eq(ip, l->code + 0x15);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "generated_code")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "module")));
    const cJSON *r = cJSON_GetObjectItem(j, "memory_region");
    ck_assert_uint_eq(hex(r, "base"), l->base);
    ck_assert_uint_eq(hex(r, "size"), l->size);
    ck_assert_str_eq(str(r, "protection"), "PAGE_EXECUTE_READWRITE");
    ck_assert_str_eq(str(r, "type"), "MEM_PRIVATE");
    ck_assert_uint_eq(hex(j, "region_offset"), ip - l->base);
    return j;
}

static const cJSON *triage_thread(const cJSON *rep, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "triage"), "threads"))
    {
        uint64_t id;
        if (dt_json_u64(t, "thread_id", &id) && id == tid)
            return t;
    }
    return NULL;
}

START_TEST(as_wine_wrote_it_the_caller_is_scanned)
{
    logged l = read_log();
    cJSON *rep = analyze(dt_test_data("wine/inline_jit.dmp.gz"));
    const cJSON *frames = jit_frames(rep, l.jit_tid);
    const cJSON *j = check_jit_frame(frames, &l);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "function_table"));
    const cJSON *next = cJSON_GetArrayItem(frames, 3);
    ck_assert_str_eq(str(next, "trust"), "scan");
    /* a stale return address left in the generated function's frame */
    ck_assert_str_ne(str(next, "function"), "df_run_generated");
    /* the triage display says what the frame is */
    const cJSON *tt = triage_thread(rep, l.jit_tid);
    ck_assert_ptr_nonnull(tt);
    const cJSON *uf = cJSON_GetArrayItem(cJSON_GetObjectItem(tt, "user_frames"), 2);
    char want[64];
    snprintf(want, sizeof want, "[JIT/generated code] 0x%llx", l.code + 0x15);
    ck_assert_str_eq(str(uf, "display"), want);
    cJSON_Delete(rep);
}
END_TEST

START_TEST(the_function_table_unwinds_it)
{
    logged l = read_log();
    const uint32_t entry[1][3] = { { (uint32_t)(l.code - l.base), (uint32_t)(l.end - l.base),
                                     (uint32_t)(l.unwind - l.base) } };
    dt_test_function_table t = { .base = l.base, .min_address = l.code, .max_address = l.end, .entries = entry,
                                 .count = 1 };
    cJSON *rep = analyze_with_tables(&t, 1);
    const cJSON *frames = jit_frames(rep, l.jit_tid);
    const cJSON *j = check_jit_frame(frames, &l);
    const cJSON *ft = cJSON_GetObjectItem(j, "function_table");
    ck_assert_uint_eq(hex(ft, "base_address"), l.base);
    ck_assert_uint_eq(hex(ft, "min_address"), l.code);
    ck_assert_uint_eq(hex(ft, "max_address"), l.end);
    const cJSON *next = cJSON_GetArrayItem(frames, 3);
    ck_assert_str_eq(str(next, "trust"), "cfi");
    ck_assert_str_eq(str(next, "function"), "df_run_generated");
    ck_assert_uint_eq(hex(next, "function_offset"), 0xa); /* after `call [g_generated]` */
    ck_assert_uint_eq(hex(next, "sp"), hex(j, "sp") + 0x30); /* 0x28 allocated + the return address */
    ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 4), "function"), "jit_thread");
    ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 4), "trust"), "cfi");
    /* the walk reaches the thread's start like every other thread's */
    int n = cJSON_GetArraySize(frames);
    ck_assert_str_eq(str(cJSON_GetArrayItem(frames, n - 1), "function"), "RtlUserThreadStart");
    cJSON_Delete(rep);
}
END_TEST

static bool has_warning(const cJSON *rep, const char *needle)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(rep, "warnings"))
        if (cJSON_IsString(w) && strstr(w->valuestring, needle))
            return true;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "user"), "warnings"))
        if (cJSON_IsString(w) && strstr(w->valuestring, needle))
            return true;
    return false;
}

START_TEST(bad_tables_fall_back)
{
    logged l = read_log();
    uint32_t b = (uint32_t)(l.code - l.base), e = (uint32_t)(l.end - l.base);
    /* UNWIND_INFO far outside the dump's memory; an entry that does not
     * cover the code; an absurd entry count the stream does not hold */
    const uint32_t far_info[1][3] = { { b, e, 0x7ff00000 } };
    const uint32_t elsewhere[1][3] = { { b + 0x40, e + 0x40, (uint32_t)(l.unwind - l.base) } };
    dt_test_function_table cases[] = {
        { .base = l.base, .min_address = l.code, .max_address = l.end, .entries = far_info, .count = 1 },
        { .base = l.base, .min_address = l.code, .max_address = l.end, .entries = elsewhere, .count = 1 },
        { .base = l.base, .min_address = l.code, .max_address = l.end, .entries = far_info, .count = 1,
          .claimed_count = 0x7fffffff },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *rep = analyze_with_tables(&cases[i], 1);
        const cJSON *frames = jit_frames(rep, l.jit_tid);
        check_jit_frame(frames, &l);
        const cJSON *next = cJSON_GetArrayItem(frames, 3);
        ck_assert_str_ne(str(next, "trust"), "cfi");
        if (cases[i].claimed_count)
            ck_assert(has_warning(rep, "FunctionTable stream: table 1 claims"));
        cJSON_Delete(rep);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("generated_code");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, as_wine_wrote_it_the_caller_is_scanned);
    tcase_add_test(tc, the_function_table_unwinds_it);
    tcase_add_test(tc, bad_tables_fall_back);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
