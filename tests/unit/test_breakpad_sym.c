/*
 * test_breakpad_sym.c — Breakpad .sym parsing, lookups and the STACK WIN /
 * STACK CFI evaluator, checked against the published minidump_stackwalk
 * output for breakpad__minidump2.dmp (expected/breakpad__minidump2.stackwalk.out).
 *
 * The STACK WIN test walks the crashing thread of the real dump: its stack
 * memory comes from the dump's MemoryList (read here by a few lines of
 * test-only code, so this test does not depend on the minidump parser),
 * its first frame's registers from the expected output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "formats/breakpad_sym.h"
#include "base/mapped_file.h"
#include "symbols/breakpad_unwind.h"
#include "symbols/postfix.h"

static dt_breakpad_sym *load(const char *rel)
{
    dt_breakpad_sym *s = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_breakpad_sym_load(&s, dt_test_data(rel), &err) == DT_OK, "%s: %s", rel, err.message);
    return s;
}

START_TEST(parses_test_app_sym)
{
    dt_breakpad_sym *s = load("symbols/breakpad__test_app.sym");
    const dt_breakpad_module *m = dt_breakpad_sym_module(s);
    ck_assert_str_eq(m->os, "windows");
    ck_assert_str_eq(m->arch, "x86");
    ck_assert_str_eq(m->debug_id, "5A9832E5287241C1838ED98914E9B7FF1");
    ck_assert_str_eq(m->debug_file, "test_app.pdb");
    size_t nf, np;
    dt_breakpad_sym_functions(s, &nf);
    dt_breakpad_sym_publics(s, &np);
    ck_assert_uint_eq(nf, 1065);   /* grep -c ^FUNC */
    ck_assert_uint_eq(np, 5);      /* grep -c ^PUBLIC */
    ck_assert_uint_gt(dt_breakpad_sym_stack_win_count(s), 1000);
    ck_assert_str_eq(dt_breakpad_sym_file(s, 1),
                     "c:\\program files\\microsoft visual studio 8\\vc\\platformsdk\\include\\winbase.h");
    ck_assert_uint_eq(dt_breakpad_sym_warnings(s)->count, 0);
    dt_breakpad_sym_free(s);
}
END_TEST

/* Every .sym in the corpus: no malformed line, FUNC/PUBLIC counts as grep
 * counts them, identity from the MODULE line. */
static const struct {
    const char *path, *arch, *id;
    size_t funcs, publics;
} corpus[] = {
    { "symbols/breakpad__dump_syms_regtest64.sym", "x86_64", "72E103A85CB249078B76B2E7C06257B13", 246, 2 },
    { "symbols/breakpad__kernel32.sym", "x86", "BCE8785C57B44245A669896B6A19B9542", 0, 1576 },
    { "symbols/breakpad__test_app.sym", "x86", "5A9832E5287241C1838ED98914E9B7FF1", 1065, 5 },
    { "symbols/rust-minidump__test_app.sym", "x86", "5A9832E5287241C1838ED98914E9B7FF1", 1065, 5 },
    { "symbols/symbolic__CrashWithException.pdb.sym", "x86_64", "F535C5FB2AE84BB8AA206C30BE566C5A1", 66, 33 },
    { "symbols/symbolic__crash.sym", "x86", "3249D99D0C4049318610F4E4FB0B69361", 92, 35 },
};

START_TEST(parses_every_corpus_sym)
{
    dt_breakpad_sym *s = load(corpus[_i].path);
    ck_assert_str_eq(dt_breakpad_sym_module(s)->arch, corpus[_i].arch);
    ck_assert_str_eq(dt_breakpad_sym_module(s)->debug_id, corpus[_i].id);
    size_t nf, np;
    dt_breakpad_sym_functions(s, &nf);
    dt_breakpad_sym_publics(s, &np);
    ck_assert_uint_eq(nf, corpus[_i].funcs);
    ck_assert_uint_eq(np, corpus[_i].publics);
    ck_assert_uint_eq(dt_breakpad_sym_warnings(s)->count, 0);
    dt_breakpad_sym_free(s);
}
END_TEST

/* Frames 0-2 of the expected stackwalk: function, file, line and the
 * offset of the return address from the line record start. */
START_TEST(lookups_match_expected_stackwalk)
{
    dt_breakpad_sym *s = load("symbols/breakpad__test_app.sym");
    dt_breakpad_symbol sym;
    /* frame 0 is the context frame: looked up at EIP itself */
    ck_assert(dt_breakpad_sym_lookup(s, 0x40429e - 0x400000, &sym));
    ck_assert_str_eq(sym.function, "`anonymous namespace'::CrashFunction");
    ck_assert_str_eq(sym.file, "c:\\test_app.cc");
    ck_assert_uint_eq(sym.line, 58);
    ck_assert_uint_eq(0x429e - sym.line_rva, 0x3);
    ck_assert(!sym.from_public);
    /* callers: looked up at return address - 1, offsets from the address */
    ck_assert(dt_breakpad_sym_lookup(s, 0x404200 - 0x400000 - 1, &sym));
    ck_assert_str_eq(sym.function, "main");
    ck_assert_uint_eq(sym.line, 65);
    ck_assert_uint_eq(0x4200 - sym.line_rva, 0x5);
    ck_assert(dt_breakpad_sym_lookup(s, 0x4053ec - 0x400000 - 1, &sym));
    ck_assert_str_eq(sym.function, "__tmainCRTStartup");
    ck_assert_str_eq(sym.file, "f:\\sp\\vctools\\crt_bld\\self_x86\\crt\\src\\crt0.c");
    ck_assert_uint_eq(sym.line, 327);
    ck_assert_uint_eq(0x53ec - sym.line_rva, 0x12);
    ck_assert(dt_breakpad_sym_has_function(s, 0x429e));
    ck_assert(!dt_breakpad_sym_lookup(s, 0x10, &sym));
    dt_breakpad_sym_free(s);

    s = load("symbols/breakpad__kernel32.sym");
    ck_assert_str_eq(dt_breakpad_sym_module(s)->debug_id, "BCE8785C57B44245A669896B6A19B9542");
    ck_assert(dt_breakpad_sym_lookup(s, 0x7c816fd7 - 0x7c800000 - 1, &sym));
    ck_assert_str_eq(sym.function, "BaseProcessStart");
    ck_assert(sym.from_public);
    ck_assert_uint_eq(0x16fd7 - sym.function_rva, 0x23);
    dt_breakpad_sym_free(s);
}
END_TEST

/* ---- a test-only address space over an MDMP MemoryList ---------------- */

typedef struct {
    dt_view file;
    uint64_t start[16], size[16], rva[16];
    size_t n;
} mdmp_mem;

static size_t mdmp_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    mdmp_mem *m = ctx;
    for (size_t i = 0; i < m->n; i++) {
        if (va >= m->start[i] && va - m->start[i] < m->size[i]) {
            uint64_t off = va - m->start[i], avail = m->size[i] - off;
            size_t n = len < avail ? len : (size_t)avail;
            return dt_view_copy(m->file, m->rva[i] + off, buf, n) ? n : 0;
        }
    }
    return 0;
}

static void mdmp_mem_open(mdmp_mem *m, dt_view f)
{
    memset(m, 0, sizeof *m);
    m->file = f;
    uint32_t nstreams, dir;
    ck_assert(dt_view_u32(f, 8, &nstreams) && dt_view_u32(f, 12, &dir));
    for (uint32_t i = 0; i < nstreams; i++) {
        uint32_t type, rva, count;
        ck_assert(dt_view_u32(f, dir + 12 * i, &type) && dt_view_u32(f, dir + 12 * i + 8, &rva));
        if (type != 5)
            continue;
        ck_assert(dt_view_u32(f, rva, &count));
        for (uint32_t j = 0; j < count && m->n < 16; j++, m->n++) {
            uint32_t sz, r;
            ck_assert(dt_view_u64(f, rva + 4 + 16 * j, &m->start[m->n]));
            ck_assert(dt_view_u32(f, rva + 4 + 16 * j + 8, &sz) && dt_view_u32(f, rva + 4 + 16 * j + 12, &r));
            m->size[m->n] = sz;
            m->rva[m->n] = r;
        }
    }
    ck_assert_uint_ge(m->n, 1);
}

typedef struct {
    dt_breakpad_sym *app, *k32;
} walk_modules;

/* Breakpad's InstructionAddressSeemsValid: inside a module, and inside a
 * function when the module has symbols. */
static bool is_code(void *ctx, uint64_t a)
{
    walk_modules *w = ctx;
    dt_breakpad_symbol sym;
    if (a >= 0x400000 && a <= 0x42cfff)
        return dt_breakpad_sym_lookup(w->app, (uint32_t)(a - 0x400000), &sym);
    if (a >= 0x7c800000 && a <= 0x7c8f3fff)
        return dt_breakpad_sym_lookup(w->k32, (uint32_t)(a - 0x7c800000), &sym);
    static const uint64_t others[][2] = { { 0x59a60000, 0x59b00fff }, { 0x76390000, 0x763acfff },
                                          { 0x76bf0000, 0x76bfafff }, { 0x774e0000, 0x7761cfff },
                                          { 0x77c00000, 0x77f56fff }, { 0x7c900000, 0x7c9affff } };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        if (a >= others[i][0] && a <= others[i][1])
            return true;
    return false;
}

START_TEST(stack_win_reproduces_expected_frames)
{
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert(dt_mapped_file_open(&f, dt_test_data("user/breakpad__minidump2.dmp"), &err) == DT_OK);
    mdmp_mem mem;
    mdmp_mem_open(&mem, f.view);
    dt_addrspace as = { &mem, mdmp_read, NULL, 4 };
    walk_modules mods = { load("symbols/breakpad__test_app.sym"), load("symbols/breakpad__kernel32.sym") };

    /* frame 0 registers, from the expected output */
    dt_cpu_context ctx = { .arch = DT_ARCH_X86 };
    dt_ctx_set(&ctx, DT_X86_EIP, 0x0040429e);
    dt_ctx_set(&ctx, DT_X86_ESP, 0x0012fe84);
    dt_ctx_set(&ctx, DT_X86_EBP, 0x0012fe88);
    dt_ctx_set(&ctx, DT_X86_EBX, 0x7c80abc1);
    dt_ctx_set(&ctx, DT_X86_ESI, 0x00000002);
    dt_ctx_set(&ctx, DT_X86_EDI, 0x00000a28);
    static const uint64_t expect[3][3] = { /* eip, esp, ebp of frames 1..3 */
        { 0x00404200, 0x0012fe90, 0x0012ff70 },
        { 0x004053ec, 0x0012ff78, 0x0012ffc0 },
        { 0x7c816fd7, 0x0012ffc8, 0x0012fff0 } };
    uint32_t callee_params = 0;
    for (int frame = 0; frame < 3; frame++) {
        uint64_t eip;
        ck_assert(dt_ctx_get(&ctx, DT_X86_EIP, &eip));
        /* callers are looked up at return address - 1 */
        uint32_t rva = (uint32_t)(eip - 0x400000 - (frame ? 1 : 0));
        dt_breakpad_unwind_env env = { &as, is_code, &mods, callee_params, frame == 0 };
        dt_cpu_context caller;
        bool scanned;
        uint32_t params;
        ck_assert_msg(dt_breakpad_unwind_win(mods.app, rva, &ctx, &env, &caller, &scanned, &params),
                      "frame %d: no STACK WIN unwind", frame);
        ck_assert(!scanned); /* "Found by: call frame info" */
        uint64_t v;
        ck_assert(dt_ctx_get(&caller, DT_X86_EIP, &v));
        ck_assert_uint_eq(v, expect[frame][0]);
        ck_assert(dt_ctx_get(&caller, DT_X86_ESP, &v));
        ck_assert_uint_eq(v, expect[frame][1]);
        ck_assert(dt_ctx_get(&caller, DT_X86_EBP, &v));
        ck_assert_uint_eq(v, expect[frame][2]);
        ctx = caller;
        callee_params = params;
    }
    dt_breakpad_sym_free(mods.app);
    dt_breakpad_sym_free(mods.k32);
    dt_mapped_file_close(&f);
}
END_TEST

/* A little stack for CFI tests: 8-byte words at 0x1000.. */
typedef struct {
    uint64_t base;
    uint8_t bytes[256];
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

START_TEST(stack_cfi_unwinds_amd64)
{
    dt_breakpad_sym *s = load("symbols/breakpad__dump_syms_regtest64.sym");
    ck_assert_uint_eq(dt_breakpad_sym_cfi_count(s), 195); /* = .pdata entries (formats.md E.4) */
    char rules[512];
    /* STACK CFI INIT 1010 6a .cfa: $rsp .ra: .cfa 8 - ^ / STACK CFI 1010 .cfa: $rsp 80 + */
    ck_assert(dt_breakpad_sym_cfi_rules(s, 0x1020, rules, sizeof rules));
    ck_assert_str_eq(rules, ".cfa: $rsp .ra: .cfa 8 - ^ .cfa: $rsp 80 +");
    ck_assert(!dt_breakpad_sym_cfi_rules(s, 0x1009, rules, sizeof rules));

    flat_mem mem = { .base = 0x1000 };
    uint64_t ret = 0x140001234;
    memcpy(mem.bytes + 0x48, &ret, 8); /* [rsp + 80 - 8] */
    dt_addrspace as = { &mem, flat_read, NULL, 8 };
    dt_cpu_context callee = { .arch = DT_ARCH_AMD64 }, caller;
    dt_ctx_set(&callee, DT_AMD64_RIP, 0x140001020);
    dt_ctx_set(&callee, DT_AMD64_RSP, 0x1000);
    dt_ctx_set(&callee, DT_AMD64_RBX, 0x77);
    dt_ctx_set(&callee, DT_AMD64_RAX, 0x99);
    ck_assert(dt_breakpad_unwind_cfi(s, 0x1020, &callee, &as, &caller));
    uint64_t v;
    ck_assert(dt_ctx_get(&caller, DT_AMD64_RIP, &v));
    ck_assert_uint_eq(v, ret);
    ck_assert(dt_ctx_get(&caller, DT_AMD64_RSP, &v));
    ck_assert_uint_eq(v, 0x1050);
    ck_assert(dt_ctx_get(&caller, DT_AMD64_RBX, &v)); /* callee-saved, carried */
    ck_assert_uint_eq(v, 0x77);
    ck_assert(!dt_ctx_get(&caller, DT_AMD64_RAX, &v)); /* volatile: unknown */
    /* rsp pointing outside memory: the .ra read fails */
    dt_ctx_set(&callee, DT_AMD64_RSP, 0x9000);
    ck_assert(!dt_breakpad_unwind_cfi(s, 0x1020, &callee, &as, &caller));
    dt_breakpad_sym_free(s);
}
END_TEST

START_TEST(postfix_evaluator)
{
    flat_mem mem = { .base = 0x1000 };
    uint32_t word = 0xdeadbeef;
    memcpy(mem.bytes + 8, &word, 4);
    dt_addrspace as = { &mem, flat_read, NULL, 4 };
    dt_postfix_env e;
    dt_postfix_init(&e, &as, 4);
    ck_assert(dt_postfix_set(&e, "$ebp", 0x1004));
    const char *prog = "$T0 $ebp = $eip $T0 4 + ^ = $esp $T0 8 + = $x 37 16 @ =";
    ck_assert(dt_postfix_run(&e, prog, strlen(prog)));
    uint64_t v;
    ck_assert(dt_postfix_get(&e, "$eip", &v));
    ck_assert_uint_eq(v, 0xdeadbeef);
    ck_assert(dt_postfix_get(&e, "$esp", &v));
    ck_assert_uint_eq(v, 0x100c);
    ck_assert(dt_postfix_get(&e, "$x", &v));
    ck_assert_uint_eq(v, 32);
    ck_assert(dt_postfix_assigned(&e, "$eip"));
    ck_assert(!dt_postfix_assigned(&e, "$ebp"));
    /* 32-bit wrap, division, modulo, negative literal */
    ck_assert(dt_postfix_eval(&e, "0 1 -", 5, &v));
    ck_assert_uint_eq(v, 0xffffffff);
    ck_assert(dt_postfix_eval(&e, "17 5 % 3 *", 10, &v));
    ck_assert_uint_eq(v, 6);
    ck_assert(dt_postfix_eval(&e, "$ebp -4 +", 9, &v));
    ck_assert_uint_eq(v, 0x1000);
    /* failures: unknown name, bad memory, division by zero, leftovers,
     * underflow, assignment to a number, stack overflow */
    static const char *bad[] = { "$nope 1 +", "0 ^", "1 0 /", "1 2", "+", "1 2 =", "$a 3 @ =" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!dt_postfix_eval(&e, bad[i], strlen(bad[i]), &v) &&
                      !dt_postfix_run(&e, bad[i], strlen(bad[i])), "%s", bad[i]);
    char deep[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "1 ");
    ck_assert(!dt_postfix_eval(&e, deep, strlen(deep), &v));
}
END_TEST

START_TEST(malformed_sym_input)
{
    dt_breakpad_sym *s = NULL;
    dt_error err = { 0 };
    const char *not_sym = "hello world\nFUNC 1000 10 0 f\n";
    ck_assert_int_eq(dt_breakpad_sym_parse(&s, dt_view_make(not_sym, strlen(not_sym)), &err), DT_ERR_FORMAT);
    ck_assert_ptr_null(s);
    const char *text = "MODULE windows x86 ABC1 a.pdb\r\n"
                       "FILE 7 a.c\n"
                       "FUNC 1000 10 4 f(int)\n"
                       "1000 8 12 7\n"
                       "1008 8 13 7\n"
                       "FUNC zz 10 0 bad\n"
                       "FUNC 123456789 10 0 too_big\n"
                       "PUBLIC m 2000 0 pub\n"
                       "STACK WIN 4 1000 10 0 0 0 0 0 0 1 $eip $esp ^ = $esp $esp 4 + =\n"
                       "STACK WIN 4 1000\n"
                       "STACK CFI INIT 3000\n"
                       "1010 4 x 7\n"
                       "FUNC 3000 4 0"; /* no name, no newline */
    ck_assert_int_eq(dt_breakpad_sym_parse(&s, dt_view_make(text, strlen(text)), &err), DT_OK);
    ck_assert_uint_eq(dt_breakpad_sym_warnings(s)->count, 5);
    dt_breakpad_symbol sym;
    ck_assert(dt_breakpad_sym_lookup(s, 0x100a, &sym));
    ck_assert_str_eq(sym.function, "f(int)");
    ck_assert_str_eq(sym.file, "a.c");
    ck_assert_uint_eq(sym.line, 13);
    ck_assert(dt_breakpad_sym_lookup(s, 0x2100, &sym));
    ck_assert_str_eq(sym.function, "pub");
    ck_assert(dt_breakpad_sym_lookup(s, 0x3002, &sym));
    ck_assert_str_eq(sym.function, "");
    ck_assert_ptr_nonnull(dt_breakpad_sym_find_stack_win(s, 0x100f));
    ck_assert_ptr_null(dt_breakpad_sym_find_stack_win(s, 0x1010));
    dt_breakpad_sym_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("breakpad_sym");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parses_test_app_sym);
    tcase_add_loop_test(tc, parses_every_corpus_sym, 0, sizeof corpus / sizeof *corpus);
    tcase_add_test(tc, lookups_match_expected_stackwalk);
    tcase_add_test(tc, stack_win_reproduces_expected_frames);
    tcase_add_test(tc, stack_cfi_unwinds_amd64);
    tcase_add_test(tc, postfix_evaluator);
    tcase_add_test(tc, malformed_sym_input);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
