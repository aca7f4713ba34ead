/*
 * test_module_list.c — address lookup in the sorted module list against a
 * brute-force reference, on lists with gaps, nested and overlapping
 * modules, a module reaching the top of the address space and duplicate
 * bases.  The lookup answers from the reach index instead of scanning every
 * lower module (a fuzzer's dump with 9 000 modules showed the scan, and the
 * report's per-module search, growing quadratically).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "dt_test.h"
#include "base/module.h"

static uint64_t next_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Does any module of the list contain addr?  (A module running past the
 * top of the address space ends there; it does not wrap to 0.) */
static int covered(const dt_module_list *l, uint64_t addr)
{
    for (size_t i = 0; i < l->count; i++)
        if (addr >= l->items[i].base && addr - l->items[i].base < l->items[i].size)
            return 1;
    return 0;
}

static void add(dt_module_list *l, uint64_t base, uint64_t size)
{
    dt_module m = { 0 };
    m.base = base;
    m.size = size;
    ck_assert_ptr_nonnull(dt_module_list_add(l, &m));
}

START_TEST(find_matches_brute_force)
{
    uint64_t seed = 0x5eed0000u + (uint64_t)_i;
    for (int round = 0; round < 200; round++) {
        dt_module_list l = { 0 };
        int n = 1 + (int)(next_rand(&seed) % 40);
        for (int i = 0; i < n; i++) {
            uint64_t base = next_rand(&seed) % 0x10000;
            uint64_t size = next_rand(&seed) % 4 == 0 ? next_rand(&seed) % 0x8000 : next_rand(&seed) % 0x400;
            add(&l, base, size);
        }
        if (round % 10 == 0)
            add(&l, 0xfffffffffffff000ull, 0x2000); /* wraps: reaches the top */
        dt_module_list_sort(&l);
        for (int k = 0; k < 400; k++) {
            uint64_t addr = k < 399 ? next_rand(&seed) % 0x12000 : 0xffffffffffffffffull;
            const dt_module *m = dt_module_list_find(&l, addr);
            ck_assert_int_eq(m != NULL, covered(&l, addr));
            if (m)
                ck_assert(addr - m->base < m->size);
        }
        dt_module_list_free(&l);
    }
}
END_TEST

/* Non-overlapping modules keep the exact answer: the one holding addr. */
START_TEST(find_nearest_and_nested)
{
    dt_module_list l = { 0 };
    add(&l, 0x30000, 0x1000);
    add(&l, 0x10000, 0x1000);
    add(&l, 0x1000, 0x100000); /* a bogus huge module under the others */
    add(&l, 0x20000, 0x1000);
    dt_module_list_sort(&l);
    ck_assert_uint_eq(dt_module_list_find(&l, 0x20010)->base, 0x20000);
    ck_assert_uint_eq(dt_module_list_find(&l, 0x10fff)->base, 0x10000);
    ck_assert_uint_eq(dt_module_list_find(&l, 0x25000)->base, 0x1000); /* only the huge one covers it */
    ck_assert_ptr_null(dt_module_list_find(&l, 0x200000));
    ck_assert_ptr_null(dt_module_list_find(&l, 0x10));
    /* Adding after sorting drops the index; the lookup still answers. */
    add(&l, 0x400000, 0x10);
    ck_assert_ptr_null(l.reach);
    ck_assert_uint_eq(dt_module_list_find(&l, 0x25000)->base, 0x1000);
    dt_module_list_free(&l);
}
END_TEST

static Suite *module_list_suite(void)
{
    Suite *s = suite_create("module_list");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, find_matches_brute_force, 0, 5);
    tcase_add_test(tc, find_nearest_and_nested);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(module_list_suite)
