/*
 * test_minidump_synth.c — minidumps written by the test itself, for what the
 * real corpus lacks: an ARM64 process (CONTEXT_ARM64 with ContextFlags
 * respected), an NB10 CodeView record, a Memory64List whose ranges abut, a
 * ThreadExList, duplicate streams, absurd counts and one string named by
 * thousands of records.  The tiny writer below
 * (a minidump-synth in miniature) lays out header, directory and streams
 * exactly as docs/formats.md part A describes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "base/json.h"
#include "report/user_report.h"

typedef struct {
    uint8_t *b;
    size_t len, cap;
    size_t nstreams, max_streams;
} synth;

static size_t put(synth *s, const void *p, size_t n)
{
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2 + 256;
        s->b = realloc(s->b, s->cap);
        ck_assert_ptr_nonnull(s->b);
    }
    size_t at = s->len;
    if (p)
        memcpy(s->b + at, p, n);
    else
        memset(s->b + at, 0, n);
    s->len += n;
    return at;
}
static void set32(synth *s, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        s->b[at + i] = (uint8_t)(v >> (8 * i));
}
static void set64(synth *s, size_t at, uint64_t v)
{
    set32(s, at, (uint32_t)v);
    set32(s, at + 4, (uint32_t)(v >> 32));
}
static size_t put32(synth *s, uint32_t v)
{
    size_t at = put(s, NULL, 4);
    set32(s, at, v);
    return at;
}
static size_t put64(synth *s, uint64_t v)
{
    size_t at = put(s, NULL, 8);
    set64(s, at, v);
    return at;
}
/* A MINIDUMP_STRING from ASCII; returns its RVA. */
static uint32_t put_string(synth *s, const char *a)
{
    size_t at = put32(s, (uint32_t)(strlen(a) * 2));
    for (const char *p = a; *p; p++) {
        uint8_t w[2] = { (uint8_t)*p, 0 };
        put(s, w, 2);
    }
    put(s, NULL, 2);
    return (uint32_t)at;
}

static void synth_begin(synth *s, uint32_t max_streams)
{
    memset(s, 0, sizeof *s);
    s->max_streams = max_streams;
    put32(s, DT_MDMP_SIGNATURE);
    put32(s, DT_MDMP_VERSION);
    put32(s, max_streams);
    put32(s, 32);
    put(s, NULL, 16);
    put(s, NULL, 12 * (size_t)max_streams);
}
/* Starts a stream: records its directory entry; close with stream_end. */
static size_t stream_begin(synth *s, uint32_t type)
{
    ck_assert_uint_lt(s->nstreams, s->max_streams);
    size_t dir = 32 + 12 * s->nstreams++;
    set32(s, dir, type);
    set32(s, dir + 8, (uint32_t)s->len);
    return dir;
}
static void stream_end(synth *s, size_t dir)
{
    uint32_t rva;
    memcpy(&rva, s->b + dir + 8, 4);
    set32(s, dir + 4, (uint32_t)(s->len - rva));
}

static void put_system_info(synth *s, uint16_t arch)
{
    size_t d = stream_begin(s, DT_MD_SYSTEM_INFO);
    size_t at = put(s, NULL, 56);
    s->b[at] = (uint8_t)arch;
    s->b[at + 1] = (uint8_t)(arch >> 8);
    s->b[at + 6] = 8;                 /* CPUs */
    set32(s, at + 8, 10);
    set32(s, at + 16, 22000);
    set32(s, at + 20, 2);
    stream_end(s, d);
}

START_TEST(arm64_process)
{
    synth s;
    synth_begin(&s, 8);
    put_system_info(&s, 12);

    /* Stack bytes and an ARM64 CONTEXT with CONTROL|INTEGER only. */
    size_t stack_rva = put(&s, NULL, 64);
    for (int i = 0; i < 64; i++)
        s.b[stack_rva + i] = (uint8_t)(0xA0 + i);
    size_t ctx = put(&s, NULL, DT_CONTEXT_ARM64_SIZE);
    set32(&s, ctx, 0x400003);
    set32(&s, ctx + 4, 0x60000000);
    for (int i = 0; i <= 28; i++)
        set64(&s, ctx + 8 + 8 * (size_t)i, 0x1000 + (uint64_t)i);
    set64(&s, ctx + 0xF0, 0x7ff000);       /* fp */
    set64(&s, ctx + 0xF8, 0x7ff7a0001234); /* lr */
    set64(&s, ctx + 0x100, 0x7ff000);      /* sp */
    set64(&s, ctx + 0x108, 0x7ff7a0000010); /* pc */
    set64(&s, ctx + 0x110, 0xDEAD);        /* V0: FLOATING_POINT not flagged */

    size_t d = stream_begin(&s, DT_MD_THREAD_LIST);
    put32(&s, 1);
    put32(&s, 0x1234);
    put32(&s, 0);
    put32(&s, 0x20);
    put32(&s, 0);
    put64(&s, 0x7ff00000);
    put64(&s, 0x7ff000);
    put32(&s, 64);
    put32(&s, (uint32_t)stack_rva);
    put32(&s, DT_CONTEXT_ARM64_SIZE);
    put32(&s, (uint32_t)ctx);
    stream_end(&s, d);

    /* One module with an NB10 record. */
    uint32_t name = put_string(&s, "C:\\app\\arm.exe");
    size_t cv = put(&s, "NB10", 4);
    put32(&s, 0);
    put32(&s, 0x5A1B2C3D);
    put32(&s, 0x11);
    put(&s, "c:\\build\\arm.pdb", 17);
    size_t cv_len = s.len - cv;
    d = stream_begin(&s, DT_MD_MODULE_LIST);
    put32(&s, 1);
    size_t m = put(&s, NULL, 108);
    set64(&s, m, 0x7ff7a0000000);
    set32(&s, m + 8, 0x20000);
    set32(&s, m + 16, 0x61000000);
    set32(&s, m + 20, name);
    set32(&s, m + 0x4C, (uint32_t)cv_len);
    set32(&s, m + 0x50, (uint32_t)cv);
    stream_end(&s, d);

    uint32_t tname = put_string(&s, "worker");
    d = stream_begin(&s, DT_MD_THREAD_NAMES);
    put32(&s, 2);
    put32(&s, 0x1234);
    put64(&s, tname);
    put32(&s, 0x9999); /* a thread that does not exist */
    put64(&s, tname);
    stream_end(&s, d);

    dt_minidump *md;
    dt_error err = { 0 };
    ck_assert_msg(dt_minidump_parse(dt_view_make(s.b, s.len), &md, &err) == DT_OK, "%s", err.message);
    ck_assert_int_eq(md->system.arch, DT_ARCH_ARM64);
    ck_assert_uint_eq(dt_minidump_pointer_size(md), 8);
    const dt_md_thread *t = dt_minidump_find_thread(md, 0x1234);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, "worker");
    uint64_t v;
    ck_assert(dt_ctx_get(&t->context, DT_ARM64_PC, &v));
    ck_assert_uint_eq(v, 0x7ff7a0000010);
    ck_assert(dt_ctx_get(&t->context, DT_ARM64_LR, &v));
    ck_assert_uint_eq(v, 0x7ff7a0001234);
    ck_assert(dt_ctx_get(&t->context, 19, &v));
    ck_assert_uint_eq(v, 0x1000 + 19);
    ck_assert_uint_eq(t->context.context_flags, 0x400003);
    /* The stack is readable through the address space. */
    uint8_t b[8];
    ck_assert_uint_eq(dt_as_read(dt_minidump_addrspace(md), 0x7ff000 + 60, b, 8), 4);
    ck_assert_uint_eq(b[0], 0xA0 + 60);
    const dt_module *mod = dt_module_list_find(&md->modules, 0x7ff7a0000010);
    ck_assert_ptr_nonnull(mod);
    ck_assert_str_eq(mod->debug_id, "5A1B2C3D11");
    ck_assert_str_eq(mod->debug_file, "arm.pdb");
    ck_assert_str_eq(mod->code_id, "6100000020000");
    /* Only the name of a thread that is not there is worth a warning. */
    ck_assert_uint_eq(md->warnings.count, 1);
    ck_assert_ptr_nonnull(strstr(md->warnings.items[0], "0x9999"));

    cJSON *u = dt_user_report(md);
    const cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(u, "threads"), 0);
    const cJSON *regs = cJSON_GetObjectItem(t0, "registers");
    ck_assert_str_eq(dt_json_get_str(regs, "pc"), "0x7ff7a0000010");
    ck_assert_str_eq(dt_json_get_str(regs, "x19"), "0x1013");
    const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "frames"), 0);
    ck_assert_str_eq(dt_json_get_str(f0, "module"), "arm.exe");
    ck_assert_str_eq(dt_json_get_str(f0, "module_offset"), "0x10");
    ck_assert_str_eq(dt_json_get_str(cJSON_GetObjectItem(u, "system_info"), "cpu_arch"), "arm64");
    cJSON_Delete(u);
    dt_minidump_free(md);
    free(s.b);
}
END_TEST

START_TEST(memory64_threadex_duplicates_and_absurd_counts)
{
    synth s;
    synth_begin(&s, 8);
    put_system_info(&s, 9);

    /* Memory64List: three ranges, the first two abutting, data back to back. */
    size_t d = stream_begin(&s, DT_MD_MEMORY64_LIST);
    put64(&s, 3);
    size_t base_rva_at = put64(&s, 0);
    put64(&s, 0x10000);
    put64(&s, 0x1000);
    put64(&s, 0x11000);
    put64(&s, 0x1000);
    put64(&s, 0x20000);
    put64(&s, 0x10); /* claims 16 bytes, file will hold 8 */
    stream_end(&s, d);

    /* ThreadExList claiming 1000 threads but holding one. */
    d = stream_begin(&s, DT_MD_THREAD_EX_LIST);
    put32(&s, 1000);
    put32(&s, 7);
    put(&s, NULL, 60);
    stream_end(&s, d);
    /* A second SystemInfo is ignored with a warning. */
    put_system_info(&s, 0);

    set64(&s, base_rva_at, s.len);
    size_t data = put(&s, NULL, 0x2000 + 8);
    for (size_t i = 0; i < 0x2000 + 8; i++)
        s.b[data + i] = (uint8_t)(i >> 8);

    dt_minidump *md;
    ck_assert(dt_minidump_parse(dt_view_make(s.b, s.len), &md, NULL) == DT_OK);
    ck_assert_int_eq(md->system.arch, DT_ARCH_AMD64);
    ck_assert(md->threads_are_ex);
    ck_assert_uint_eq(md->nthreads, 1);
    ck_assert_uint_eq(md->threads[0].thread_id, 7);
    ck_assert(md->has_memory64);
    ck_assert_uint_eq(md->memory.count, 3);
    ck_assert_uint_eq(md->memory.clipped_bytes, 8);
    const dt_addrspace *as = dt_minidump_addrspace(md);
    uint8_t b[32];
    ck_assert_uint_eq(dt_as_read(as, 0x10FF0, b, 32), 32); /* across the seam */
    ck_assert_uint_eq(b[0], 0x0F);
    ck_assert_uint_eq(b[31], 0x10);
    ck_assert_uint_eq(dt_as_read(as, 0x11FF0, b, 32), 16); /* then a gap */
    ck_assert_uint_eq(dt_as_read(as, 0x20000, b, 32), 8);  /* EOF */
    bool dup = false, clamp = false;
    for (size_t i = 0; i < md->warnings.count; i++) {
        dup |= strstr(md->warnings.items[i], "duplicate SystemInfo") != NULL;
        clamp |= strstr(md->warnings.items[i], "claims 1000 threads") != NULL;
    }
    ck_assert(dup && clamp);
    dt_minidump_free(md);
    free(s.b);
}
END_TEST

START_TEST(huge_directory_is_bounded)
{
    synth s;
    synth_begin(&s, 1);
    set32(&s, 8, 0xFFFFFFFF); /* NumberOfStreams */
    /* Pad so thousands of (unused) entries exist. */
    put(&s, NULL, 12 * 6000);
    dt_minidump *md;
    ck_assert(dt_minidump_parse(dt_view_make(s.b, s.len), &md, NULL) == DT_OK);
    ck_assert_uint_eq(md->nstreams, 0);
    ck_assert_uint_gt(md->warnings.count, 0);
    dt_minidump_free(md);
    free(s.b);
}
END_TEST

/* 20 000 HandleData descriptors all naming one 60 KiB string: each name is
 * decoded on its own, so without a bound this half-megabyte file asks for
 * 600 MB of names (and a report as large).  The parser stops decoding at
 * twice the file's size, says so once, and the report stays small. */
START_TEST(shared_string_rvas_are_bounded)
{
    enum { NHANDLES = 20000, NAME_CHARS = 30720 };
    synth s;
    synth_begin(&s, 2);
    put_system_info(&s, 9);
    size_t name_rva = put32(&s, NAME_CHARS * 2);
    for (int i = 0; i < NAME_CHARS; i++)
        put(&s, (const uint8_t[]){ (uint8_t)('a' + i % 26), 0 }, 2);
    size_t d = stream_begin(&s, DT_MD_HANDLE_DATA);
    put32(&s, 16);
    put32(&s, 24);
    put32(&s, NHANDLES);
    put32(&s, 0);
    for (uint32_t i = 0; i < NHANDLES; i++) {
        put64(&s, 4 + 4 * (uint64_t)i);
        put32(&s, (uint32_t)name_rva); /* TypeNameRva */
        put32(&s, (uint32_t)name_rva); /* ObjectNameRva */
        put64(&s, 0);
    }
    stream_end(&s, d);

    dt_minidump *md;
    ck_assert(dt_minidump_parse(dt_view_make(s.b, s.len), &md, NULL) == DT_OK);
    ck_assert_uint_eq(md->nhandles, NHANDLES);
    ck_assert_uint_eq(strlen(md->handles[0].type_name), NAME_CHARS); /* the first ones whole */
    ck_assert_uint_eq(strlen(md->handles[0].object_name), NAME_CHARS);
    uint64_t decoded = 0;
    for (size_t i = 0; i < md->nhandles; i++)
        decoded += (md->handles[i].type_name ? strlen(md->handles[i].type_name) : 0) +
                   (md->handles[i].object_name ? strlen(md->handles[i].object_name) : 0);
    /* ASCII: one UTF-8 byte per two UTF-16 bytes of budget. */
    ck_assert_msg(decoded <= s.len + 32768, "decoded %llu bytes of names from a %zu-byte file",
                  (unsigned long long)decoded, s.len);
    ck_assert_ptr_null(md->handles[NHANDLES - 1].type_name);
    size_t said = 0;
    for (size_t i = 0; i < md->warnings.count; i++)
        said += strstr(md->warnings.items[i], "more than twice the file's size") != NULL;
    ck_assert_uint_eq(said, 1);

    cJSON *u = dt_user_report(md);
    char *js = cJSON_PrintUnformatted(u);
    ck_assert_ptr_nonnull(js);
    ck_assert_msg(strlen(js) < 8 * s.len, "report of %zu bytes from a %zu-byte file", strlen(js), s.len);
    free(js);
    cJSON_Delete(u);
    dt_minidump_free(md);
    free(s.b);
}
END_TEST

/* The fuzz seeds written by tests/fuzz/fuzz_minidump.seedgen.py hold every
 * stream kind at once; each must decode cleanly. */
START_TEST(all_stream_seeds_decode)
{
    static const char *const seeds[] = { "synth_arm64_all_streams.dmp", "synth_x86_all_streams.dmp" };
    const char *src = getenv("DT_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fuzz/seeds/fuzz_minidump/%s", src ? src : ".", seeds[_i]);
    size_t len;
    uint8_t *bytes = dt_test_read_file(path, &len);
    ck_assert_ptr_nonnull(bytes);
    dt_minidump *md;
    ck_assert(dt_minidump_parse(dt_view_make(bytes, len), &md, NULL) == DT_OK);
    ck_assert_msg(md->warnings.count == 0, "%s", md->warnings.count ? md->warnings.items[0] : "");
    ck_assert_int_eq(md->system.arch, _i == 0 ? DT_ARCH_ARM64 : DT_ARCH_X86);
    ck_assert_uint_eq(md->nstreams, 18);
    ck_assert_str_eq(md->threads[0].name, "seed thread");
    ck_assert(md->threads[0].has_info);
    ck_assert(md->exception.present && md->exception.has_context);
    ck_assert_uint_eq(md->modules.count, 2);
    ck_assert_str_eq(md->modules.items[0].version, "10.0.19041.1");
    ck_assert_str_eq(md->modules.items[1].debug_id, "5A1B2C3D11");
    ck_assert_uint_eq(md->nunloaded, 1);
    ck_assert_uint_eq(md->nhandles, 1);
    ck_assert_str_eq(md->handles[0].object_name, "\\BaseNamedObjects\\seed");
    ck_assert_uint_eq(md->nregions, 2);
    ck_assert(md->misc.has_cookie && md->misc.has_timezone && md->misc.has_power);
    ck_assert_uint_eq(md->misc.pid, 4242);
    ck_assert(md->token.present && md->vm_counters.has_v2 && md->system_memory.present);
    ck_assert_str_eq(md->comment_w, "seed comment");
    ck_assert(md->assertion.present && md->breakpad.present && md->crashpad.present);
    ck_assert(md->has_memory64);
    ck_assert_uint_eq(md->memory.total_bytes, 0x1400);
    uint8_t mz[2];
    ck_assert(dt_as_read_exact(dt_minidump_addrspace(md), md->modules.items[0].base, mz, 2));
    ck_assert_int_eq(memcmp(mz, "MZ", 2), 0);
    dt_minidump_free(md);
    free(bytes);
}
END_TEST

static Suite *synth_suite(void)
{
    Suite *s = suite_create("minidump_synth");
    TCase *tc = tcase_create("synthetic dumps");
    tcase_add_test(tc, arm64_process);
    tcase_add_test(tc, memory64_threadex_duplicates_and_absurd_counts);
    tcase_add_test(tc, huge_directory_is_bounded);
    tcase_add_test(tc, shared_string_rvas_are_bounded);
    tcase_add_loop_test(tc, all_stream_seeds_decode, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(synth_suite)
