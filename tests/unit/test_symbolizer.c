/*
 * test_symbolizer.c — the provider chain: PDB names for the Wine test
 * programs' static functions, Breakpad names for breakpad__minidump2's
 * modules from a symstore-layout directory built here, per-module caching
 * and module annotation, the walker hooks, and chain order with an added
 * provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_test.h"
#include "formats/breakpad_sym.h"
#include "formats/pdb.h"
#include "symbols/symbolizer.h"

static dt_module module(const char *code_file, const char *debug_file, const char *debug_id,
                        uint64_t base, uint64_t size)
{
    dt_module m;
    memset(&m, 0, sizeof m);
    m.base = base;
    m.size = size;
    m.code_file = (char *)code_file;
    m.debug_file = (char *)debug_file;
    snprintf(m.debug_id, sizeof m.debug_id, "%s", debug_id ? debug_id : "");
    return m;
}

START_TEST(pdb_names_static_functions)
{
    const char *dirs[] = { dt_test_data("wine/bin/clang") };
    dt_error err = { 0 };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, &err);
    ck_assert_ptr_nonnull(s);
    dt_module m = module("multi_hang.exe", "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E1",
                         0x140000000, 0x3d000);
    dt_symbol sym;
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001c6e, &sym));
    ck_assert_str_eq(sym.function, "df_lock_second");
    ck_assert_uint_eq(sym.function_offset, 0xe);
    ck_assert_str_eq(sym.provider, "pdb");
    ck_assert(!sym.export_only);
    ck_assert_str_eq(sym.file, "C:\\build\\multi_hang.c");
    ck_assert_uint_eq(sym.line, 83);
    dt_symbol_clear(&sym);
    ck_assert(!dt_symbolizer_lookup(s, &m, NULL, 0x13fffffff, &sym)); /* outside the module */
    ck_assert(dt_symbolizer_has_function(s, &m, NULL, 0x140001c60));
    dt_symbolizer_annotate(s, &m, NULL);
    ck_assert(m.symbols_loaded);
    ck_assert_msg(strncmp(m.symbol_source, "pdb:", 4) == 0 && strstr(m.symbol_source, "multi_hang.pdb"),
                  "%s", m.symbol_source);
    free(m.symbol_source);

    /* no symbols: a miss, remembered */
    dt_module k = module("kernel32.dll", "kernel32.pdb", "00000000000000000000000000000000A", 0x7b600000, 0x195000);
    ck_assert(!dt_symbolizer_lookup(s, &k, NULL, 0x7b600100, &sym));
    ck_assert_ptr_null(sym.function);
    dt_symbolizer_annotate(s, &k, NULL);
    ck_assert(!k.symbols_loaded);
    ck_assert_str_eq(k.symbol_source, "missing_symbols");
    free(k.symbol_source);
    dt_symbolizer_free(s);
}
END_TEST

START_TEST(symbol_path_environment)
{
    setenv(DT_SYMBOL_PATH_ENV, dt_test_data("wine/bin/clang"), 1);
    dt_symbolizer *s = dt_symbolizer_new(NULL, 0, NULL);
    unsetenv(DT_SYMBOL_PATH_ENV);
    ck_assert_ptr_nonnull(s);
    dt_module m = module("dfpipe.dll", "dfpipe.pdb", "2F9BD15F2897C53E4C4C44205044422E1", 0x180000000, 0x1b000);
    dt_symbol sym;
    /* llvm-pdbutil dump -symbols: S_LPROC32 `df_wait_for_client` addr = 0001:0992 */
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x180000000 + 0x1000 + 992 + 5, &sym));
    ck_assert_str_eq(sym.function, "df_wait_for_client");
    ck_assert_uint_eq(sym.function_offset, 5);
    dt_symbol_clear(&sym);
    dt_symbolizer_annotate(s, &m, NULL);
    ck_assert(m.symbols_loaded);
    free(m.symbol_source);
    ck_assert(!dt_symbolizer_lookup(s, &m, NULL, 0x180000000, &sym)); /* headers: nothing */
    dt_symbolizer_free(s);
}
END_TEST

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

/* tmp/<pdb>/<id>/<name>.sym, as Breakpad's symupload/symstore would lay it out */
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

typedef struct {
    uint64_t base;
    uint8_t bytes[512];
} flat_mem;

static size_t flat_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    flat_mem *m = ctx;
    if (va < m->base || va - m->base >= sizeof m->bytes)
        return 0;
    size_t avail = sizeof m->bytes - (size_t)(va - m->base);
    size_t n = len < avail ? len : avail;
    memcpy(buf, m->bytes + (va - m->base), n);
    return n;
}

/* expected/breakpad__minidump2.stackwalk.out, frames 0 and 3 names, and
 * frame 1's registers recovered through the cfi_unwind hook. */
START_TEST(breakpad_symbols_from_symstore_dir)
{
    snprintf(tmp, sizeof tmp, "/tmp/dt_symbolizer_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    store_sym("test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF1", "test_app.sym", "symbols/breakpad__test_app.sym");
    store_sym("kernel32.pdb", "BCE8785C57B44245A669896B6A19B9542", "kernel32.sym", "symbols/breakpad__kernel32.sym");
    const char *dirs[] = { tmp };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, NULL);
    dt_module app = module("test_app.exe", "test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF1", 0x400000, 0x2d000);
    dt_module k32 = module("kernel32.dll", "kernel32.pdb", "BCE8785C57B44245A669896B6A19B9542", 0x7c800000, 0xf4000);
    dt_symbol sym;
    ck_assert(dt_symbolizer_lookup(s, &app, NULL, 0x40429e, &sym));
    ck_assert_str_eq(sym.function, "`anonymous namespace'::CrashFunction");
    ck_assert_str_eq(sym.provider, "breakpad");
    ck_assert_str_eq(sym.file, "c:\\test_app.cc");
    ck_assert_uint_eq(sym.line, 58);
    dt_symbol_clear(&sym);
    ck_assert(dt_symbolizer_lookup(s, &k32, NULL, 0x7c816fd7 - 1, &sym));
    ck_assert_str_eq(sym.function, "BaseProcessStart");
    ck_assert_uint_eq(sym.function_offset + 1, 0x23);
    ck_assert_ptr_null(sym.file);
    dt_symbol_clear(&sym);
    dt_symbolizer_annotate(s, &k32, NULL);
    ck_assert(k32.symbols_loaded);
    ck_assert_ptr_nonnull(strstr(k32.symbol_source, "breakpad:"));
    free(k32.symbol_source);
    ck_assert_ptr_nonnull(dt_symbolizer_breakpad(s, &app));

    /* frame 0 -> 1 via STACK WIN 4 4290: [ebp] = caller ebp, [ebp+4] = return */
    flat_mem mem = { .base = 0x12fe00 };
    uint32_t caller_ebp = 0x12ff70, ret = 0x404200;
    memcpy(mem.bytes + 0x88, &caller_ebp, 4);
    memcpy(mem.bytes + 0x8c, &ret, 4);
    dt_addrspace as = { &mem, flat_read, NULL, 4 };
    dt_cpu_context ctx = { .arch = DT_ARCH_X86 }, caller;
    dt_ctx_set(&ctx, DT_X86_EIP, 0x40429e);
    dt_ctx_set(&ctx, DT_X86_ESP, 0x12fe84);
    dt_ctx_set(&ctx, DT_X86_EBP, 0x12fe88);
    dt_breakpad_unwind_env env = { &as, NULL, NULL, 0, true };
    bool scanned;
    uint32_t params;
    ck_assert(dt_symbolizer_cfi_unwind(s, &app, 0x40429e, &ctx, &env, &caller, &scanned, &params));
    uint64_t v;
    ck_assert(dt_ctx_get(&caller, DT_X86_EIP, &v));
    ck_assert_uint_eq(v, 0x404200);
    ck_assert(dt_ctx_get(&caller, DT_X86_ESP, &v));
    ck_assert_uint_eq(v, 0x12fe90);
    ck_assert(dt_ctx_get(&caller, DT_X86_EBP, &v));
    ck_assert_uint_eq(v, 0x12ff70);
    ck_assert(!scanned);
    dt_symbolizer_free(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(image_file_hook)
{
    const char *dirs[] = { dt_test_data("symstore-kernel") };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, NULL);
    dt_module m = module("Wdf01000.sys", NULL, NULL, 0xfffff80000000000, 0xd1000);
    snprintf(m.code_id, sizeof m.code_id, "A9A9D36ED1000");
    dt_view v;
    ck_assert(dt_symbolizer_image_file(s, &m, &v));
    ck_assert_uint_eq(v.size, 827704);
    ck_assert(v.data[0] == 'M' && v.data[1] == 'Z');
    snprintf(m.code_id, sizeof m.code_id, "A9A9D36ED2000");
    ck_assert(!dt_symbolizer_image_file(s, &m, &v));
    dt_symbolizer_free(s);
}
END_TEST

/* A kernel module as a triage dump lists it: name, timestamp and size, no
 * CodeView record.  The PE file in the store supplies the PDB identity, and
 * the PDB the names. */
START_TEST(debug_identity_from_image)
{
    const char *dirs[] = { dt_test_data("symstore-kernel") };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, NULL);
    dt_module m = module("amdppm.sys", NULL, NULL, 0xfffff80480000000, 0x3b000);
    snprintf(m.code_id, sizeof m.code_id, "C9C030003B000");
    dt_pdb *pdb = NULL;
    ck_assert(dt_pdb_open(&pdb, dt_test_data("symstore-kernel/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"),
                          NULL) == DT_OK);
    size_t n;
    const dt_pdb_public *pub = dt_pdb_publics(pdb, &n, NULL);
    const dt_pdb_public *fn = NULL;
    for (size_t i = 0; i + 1 < n && !fn; i++)
        if ((pub[i].flags & 2) && pub[i + 1].rva > pub[i].rva + 4)
            fn = &pub[i];
    ck_assert_ptr_nonnull(fn);
    dt_symbol sym;
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, m.base + fn->rva + 2, &sym));
    ck_assert_str_eq(sym.provider, "pdb");
    ck_assert_str_eq(sym.function, fn->name);
    ck_assert_uint_eq(sym.function_offset, 2);
    dt_symbol_clear(&sym);
    dt_symbolizer_annotate(s, &m, NULL);
    ck_assert(m.symbols_loaded);
    ck_assert_str_eq(m.debug_file, "amdppm.pdb");
    ck_assert_str_eq(m.debug_id, "1C19FDDB27BB3399D9B45973EFEAFCF31");
    /* the identity filled in does not make it a different module */
    const struct dt_pdb *cached = dt_symbolizer_pdb(s, &m);
    ck_assert_ptr_nonnull(cached);
    dt_module copy = m;
    copy.debug_file = NULL;
    copy.debug_id[0] = 0;
    ck_assert_ptr_eq(dt_symbolizer_pdb(s, &copy), cached);
    free(m.debug_file);
    free(m.symbol_source);
    dt_pdb_close(pdb);
    dt_symbolizer_free(s);
}
END_TEST

/* A stand-in export table: names every address "Export_<page>" so the
 * chain order and export_only marking can be checked. */
static void *fake_open(void *ctx, const dt_symstore *st, const dt_module *m, const dt_addrspace *as, char **source)
{
    (void)st;
    (void)as;
    (void)m;
    *source = strdup("exports");
    return ctx;
}
static bool fake_lookup(void *h, uint64_t rva, dt_symbol *out)
{
    (void)h;
    char name[32];
    snprintf(name, sizeof name, "Export_%llx", (unsigned long long)(rva & ~0xfffULL));
    out->function = strdup(name);
    out->function_offset = rva & 0xfff;
    return true;
}
static void fake_close(void *h) { (void)h; }

START_TEST(chain_prefers_debug_symbols_over_exports)
{
    const char *dirs[] = { dt_test_data("wine/bin/clang") };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, NULL);
    int token;
    dt_symbol_provider p = { "exports", true, fake_open, fake_lookup, NULL, fake_close, &token };
    ck_assert(dt_symbolizer_add_provider(s, &p, NULL) == DT_OK);
    dt_module m = module("multi_hang.exe", "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E1", 0x140000000, 0x3d000);
    dt_module k = module("kernel32.dll", "kernel32.pdb", "", 0x7b600000, 0x195000);
    dt_symbol sym;
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001c6e, &sym));
    ck_assert_str_eq(sym.provider, "pdb");
    dt_symbol_clear(&sym);
    ck_assert(dt_symbolizer_lookup(s, &k, NULL, 0x7b601234, &sym));
    ck_assert_str_eq(sym.provider, "exports");
    ck_assert(sym.export_only);
    ck_assert_str_eq(sym.function, "Export_1000");
    ck_assert_uint_eq(sym.function_offset, 0x234);
    dt_symbol_clear(&sym);
    dt_symbolizer_annotate(s, &k, NULL);
    ck_assert(!k.symbols_loaded);
    ck_assert_str_eq(k.symbol_source, "exports");
    free(k.symbol_source);
    dt_symbolizer_free(s);
}
END_TEST

/* A decorated public is shown undecorated as WinDbg does, and the decorated
 * name is kept (#19).  The corpus PDBs name every address with a procedure
 * first (their records carry plain names), so this uses a .sym written here
 * whose PUBLIC lines are decorated, as dump_syms writes them from a PE's
 * exports; one name is malformed and stays raw with a warning. */
START_TEST(decorated_publics_undecorated)
{
    char dir[] = "/tmp/dt_undec_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char to[300];
    snprintf(to, sizeof to, "%s/app.sym", dir);
    FILE *f = fopen(to, "w");
    ck_assert_ptr_nonnull(f);
    fputs("MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 app.pdb\n"
          "PUBLIC 1000 0 ?Lookup@Cache@@QEAAPEAXH@Z\n"
          "PUBLIC 1100 0 ??1?$vector@HV?$allocator@H@std@@@std@@QEAA@XZ\n"
          "PUBLIC 1200 0 ?broken@@YAX\n"
          "PUBLIC 1300 0 plain_c_name\n", f);
    fclose(f);
    const char *dirs[] = { dir };
    dt_error err = { 0 };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, &err);
    ck_assert_ptr_nonnull(s);
    dt_module m = module("app.exe", "app.pdb", "0123456789ABCDEF0123456789ABCDEF1", 0x140000000, 0x20000);
    dt_symbol sym;
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001004, &sym));
    ck_assert_str_eq(sym.function, "Cache::Lookup");
    ck_assert_str_eq(sym.function_raw, "?Lookup@Cache@@QEAAPEAXH@Z");
    ck_assert_uint_eq(sym.function_offset, 4);
    dt_symbol_clear(&sym);
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001100, &sym));
    ck_assert_str_eq(sym.function, "std::vector<int, class std::allocator<int>>::~vector<int, class std::allocator<int>>");
    dt_symbol_clear(&sym);
    ck_assert_uint_eq(dt_symbolizer_warnings(s)->count, 0);
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001200, &sym));
    ck_assert_str_eq(sym.function, "?broken@@YAX");
    ck_assert_ptr_null(sym.function_raw);
    dt_symbol_clear(&sym);
    ck_assert_uint_eq(dt_symbolizer_warnings(s)->count, 1);
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001300, &sym));
    ck_assert_str_eq(sym.function, "plain_c_name");
    ck_assert_ptr_null(sym.function_raw);
    dt_symbol_clear(&sym);
    dt_symbolizer_free(s);
    unlink(to);
    rmdir(dir);
}
END_TEST

/* Inline frames from a .sym's INLINE/INLINE_ORIGIN records (#19).  No
 * corpus .sym has them, so this one is written here from Breakpad's
 * documented record layout: opt_entry inlines submit_batch (called at
 * app.cc:42), which inlines lock_and_push (called at queue.h:17) in two
 * ranges.  Malformed records (a range outside its FUNC, an absurd depth,
 * no FUNC before) are skipped with the parser's warning. */
START_TEST(breakpad_inline_frames)
{
    char dir[] = "/tmp/dt_inl_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char to[300];
    snprintf(to, sizeof to, "%s/app.sym", dir);
    FILE *f = fopen(to, "w");
    ck_assert_ptr_nonnull(f);
    fputs("MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 app.pdb\n"
          "INLINE 0 1 0 0 1000 10\n"
          "FILE 0 c:\\src\\app.cc\n"
          "FILE 1 c:\\src\\queue.h\n"
          "INLINE_ORIGIN 0 Queue::submit_batch\n"
          "INLINE_ORIGIN 1 Queue::lock_and_push\n"
          "FUNC 1000 100 0 opt_entry\n"
          "INLINE 0 42 0 0 1010 40\n"
          "INLINE 1 17 1 1 1020 10 1040 8\n"
          "INLINE 0 50 0 1 2000 10\n"
          "INLINE 99999 50 0 1 1000 10\n"
          "1000 10 40 0\n"
          "1010 10 18 1\n"
          "1020 10 9 1\n"
          "1030 10 19 1\n"
          "1040 8 10 1\n"
          "1048 b8 44 0\n", f);
    fclose(f);
    const char *dirs[] = { dir };
    dt_error err = { 0 };
    dt_symbolizer *s = dt_symbolizer_new(dirs, 1, &err);
    ck_assert_ptr_nonnull(s);
    dt_module m = module("app.exe", "app.pdb", "0123456789ABCDEF0123456789ABCDEF1", 0x140000000, 0x20000);
    dt_symbol sym;
    /* two levels deep */
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001024, &sym));
    ck_assert_str_eq(sym.function, "opt_entry");
    ck_assert_str_eq(sym.file, "c:\\src\\app.cc");
    ck_assert_uint_eq(sym.line, 42);
    ck_assert_uint_eq(sym.ninlines, 2);
    ck_assert_str_eq(sym.inlines[0].function, "Queue::lock_and_push");
    ck_assert_str_eq(sym.inlines[0].file, "c:\\src\\queue.h");
    ck_assert_uint_eq(sym.inlines[0].line, 9);
    ck_assert_str_eq(sym.inlines[1].function, "Queue::submit_batch");
    ck_assert_uint_eq(sym.inlines[1].line, 17);
    dt_symbol_clear(&sym);
    /* the second range of the inner inline */
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001044, &sym));
    ck_assert_uint_eq(sym.ninlines, 2);
    ck_assert_uint_eq(sym.inlines[0].line, 10);
    dt_symbol_clear(&sym);
    /* only submit_batch */
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001034, &sym));
    ck_assert_uint_eq(sym.ninlines, 1);
    ck_assert_str_eq(sym.inlines[0].function, "Queue::submit_batch");
    ck_assert_uint_eq(sym.inlines[0].line, 19);
    ck_assert_uint_eq(sym.line, 42);
    dt_symbol_clear(&sym);
    /* outside inlined code: the function's own line */
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001005, &sym));
    ck_assert_uint_eq(sym.ninlines, 0);
    ck_assert_ptr_null(sym.inlines);
    ck_assert_uint_eq(sym.line, 40);
    dt_symbol_clear(&sym);
    ck_assert(dt_symbolizer_lookup(s, &m, NULL, 0x140001050, &sym));
    ck_assert_uint_eq(sym.ninlines, 0);
    ck_assert_uint_eq(sym.line, 44);
    dt_symbol_clear(&sym);
    dt_symbolizer_free(s);

    /* the three malformed INLINE lines are warned about by the parser */
    dt_breakpad_sym *bp = NULL;
    ck_assert(dt_breakpad_sym_load(&bp, to, NULL) == DT_OK);
    ck_assert_uint_eq(dt_breakpad_sym_warnings(bp)->count, 3);
    dt_breakpad_inline chain[1];
    ck_assert_uint_eq(dt_breakpad_sym_inlines(bp, 0x1024, chain, 1), 1); /* max is honoured */
    ck_assert_str_eq(chain[0].function, "Queue::submit_batch");
    dt_breakpad_sym_free(bp);
    unlink(to);
    rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("symbolizer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pdb_names_static_functions);
    tcase_add_test(tc, symbol_path_environment);
    tcase_add_test(tc, breakpad_symbols_from_symstore_dir);
    tcase_add_test(tc, image_file_hook);
    tcase_add_test(tc, debug_identity_from_image);
    tcase_add_test(tc, chain_prefers_debug_symbols_over_exports);
    tcase_add_test(tc, decorated_publics_undecorated);
    tcase_add_test(tc, breakpad_inline_frames);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
