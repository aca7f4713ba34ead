/*
 * test_undname.c — the MSVC undecorator against its oracle: every line of
 * tests/data/symbols/undname_oracle.tsv (all 1160 decorated publics of the
 * corpus PDBs plus the names clang emits for undname_tricky.cpp, both
 * targets, as llvm-undname 14 printed them) must come out character for
 * character; test_undname_oracle.sh re-runs llvm-undname live.  Also: the
 * WinDbg-style name-only form, and bounded work on decoration bombs and
 * truncated names (NULL, so the caller keeps the raw name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "symbols/undname.h"

START_TEST(oracle_exact)
{
    FILE *f = fopen(dt_test_data("symbols/undname_oracle.tsv"), "r");
    ck_assert_ptr_nonnull(f);
    static char line[20000];
    size_t n = 0, strings = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        char *got = dt_undname(line, DT_UNDNAME_FULL);
        ck_assert_msg(got != NULL, "declined %s (want %s)", line, tab + 1);
        ck_assert_msg(strcmp(got, tab + 1) == 0, "%s\n  want %s\n  got  %s", line, tab + 1, got);
        free(got);
        strings += strncmp(line, "??_C@", 5) == 0;
        n++;
    }
    fclose(f);
    ck_assert_uint_eq(n, 1283);
    ck_assert_uint_ge(strings, 1000);
}
END_TEST

static void name_only(const char *in, const char *want)
{
    char *got = dt_undname(in, DT_UNDNAME_NAME_ONLY);
    ck_assert_msg(got && strcmp(got, want) == 0, "%s: want %s got %s", in, want, got ? got : "(null)");
    free(got);
}

START_TEST(windbg_names)
{
    name_only("?Lookup@Cache@@QEAAPEAXH@Z", "Cache::Lookup");
    name_only("??0bad_alloc@std@@QEAA@XZ", "std::bad_alloc::bad_alloc");
    name_only("??1?$list@UAppMemory@google_breakpad@@V?$allocator@UAppMemory@google_breakpad@@@std@@@std@@QAE@XZ",
              "std::list<struct google_breakpad::AppMemory, class std::allocator<struct google_breakpad::AppMemory>>::"
              "~list<struct google_breakpad::AppMemory, class std::allocator<struct google_breakpad::AppMemory>>");
    name_only("?f@?A0x1234@@YAXXZ", "`anonymous namespace'::f");
    name_only("??4Cache@inner@outer@@QEAAAEAU012@AEBU012@@Z", "outer::inner::Cache::operator=");
    name_only("?count@Cache@inner@outer@@2HA", "outer::inner::Cache::count");
    /* not decorated, or an MD5 name: nothing to do */
    ck_assert_ptr_null(dt_undname("RtlpWaitOnCriticalSection", 0));
    ck_assert_ptr_null(dt_undname("??@8ba8d245c9eca390356129098dbe9f73@", 0));
    ck_assert_ptr_null(dt_undname(NULL, 0));
}
END_TEST

/* Deep nesting, back-references that double the output at every parameter,
 * over-long input and every truncation of real names: NULL (or a bounded
 * string), never a crash or unbounded work (the ASan build runs this too). */
START_TEST(bombs_are_bounded)
{
    static char buf[3 * DT_UNDNAME_MAX_INPUT];
    /* 2000 nested pointers */
    strcpy(buf, "?f@@YAX");
    for (int i = 0; i < 2000; i++)
        strcat(buf, "PA");
    strcat(buf, "H@Z");
    ck_assert_ptr_null(dt_undname(buf, 0));
    /* templates nested 400 deep */
    strcpy(buf, "?f@@YAX");
    for (int i = 0; i < 400; i++)
        strcat(buf, "V?$A@");
    strcat(buf, "H");
    for (int i = 0; i < 400; i++)
        strcat(buf, "@@");
    strcat(buf, "@Z");
    ck_assert_ptr_null(dt_undname(buf, 0));
    /* each parameter a function pointer taking the previous two: output
     * doubles per parameter until the bound stops it */
    strcpy(buf, "?f@@YAXV?$Looooooooooooooooooooooooooooooooooong@H@@");
    for (int i = 0; i < 9; i++) {
        char p[32];
        snprintf(p, sizeof p, "P6AX%d%d@Z", i, i);
        strcat(buf, p);
    }
    strcat(buf, "@Z");
    char *r = dt_undname(buf, 0);
    ck_assert(r == NULL || strlen(r) <= DT_UNDNAME_MAX_OUTPUT);
    free(r);
    /* fuzz_undname's first find: a calling convention code at the end
     * moved the reader past the terminator */
    ck_assert_ptr_null(dt_undname("?0bad@QAE@ABV01@@Z", 0));
    ck_assert_ptr_null(dt_undname("?f@@QA", 0));
    ck_assert_ptr_null(dt_undname("?f@@YA", 0));
    ck_assert_ptr_null(dt_undname("?x@@3W", 0));
    /* over-long input is refused outright */
    memset(buf, 'a', sizeof buf - 1);
    buf[0] = '?';
    buf[sizeof buf - 1] = '\0';
    ck_assert_ptr_null(dt_undname(buf, 0));
    /* every prefix of every oracle name */
    FILE *f = fopen(dt_test_data("symbols/undname_oracle.tsv"), "r");
    ck_assert_ptr_nonnull(f);
    static char line[20000];
    size_t declined = 0, tried = 0;
    while (fgets(line, sizeof line, f)) {
        *strchr(line, '\t') = '\0';
        size_t len = strlen(line);
        for (size_t k = 1; k < len; k++) {
            char save = line[k];
            line[k] = '\0';
            char *x = dt_undname(line, 0);
            declined += x == NULL;
            tried++;
            free(x);
            line[k] = save;
        }
    }
    fclose(f);
    ck_assert_uint_gt(declined, tried * 9 / 10);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("undname");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, oracle_exact);
    tcase_add_test(tc, windbg_names);
    tcase_add_test(tc, bombs_are_bounded);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
