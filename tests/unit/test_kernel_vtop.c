/*
 * test_kernel_vtop.c — the page-table walkers on hand-built tables
 * (synthesized in the test: real full dumps with page tables are GBs):
 * x64 4 KiB / 2 MiB / 1 GiB pages, transition vs prototype PTEs, x86 PAE
 * and non-PAE with large pages, ARM64 4 KiB-granule pages and blocks.
 */
#include <stdint.h>
#include <string.h>

#include "dt_test.h"
#include "memory/vtop_walk.h"

#define MEM_PAGES 16
typedef struct {
    uint8_t m[MEM_PAGES * 0x1000];
} phys;

static bool rd(void *ctx, uint64_t pa, void *buf, size_t len)
{
    phys *p = ctx;
    if (pa > sizeof p->m || len > sizeof p->m - pa)
        return false;
    memcpy(buf, p->m + pa, len);
    return true;
}
static void e64(phys *p, uint64_t table_page, unsigned idx, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p->m[table_page * 0x1000 + idx * 8 + (unsigned)i] = (uint8_t)(v >> (8 * i));
}
static void e32(phys *p, uint64_t table_page, unsigned idx, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p->m[table_page * 0x1000 + idx * 4 + (unsigned)i] = (uint8_t)(v >> (8 * i));
}

static phys mem;

START_TEST(amd64_pages)
{
    memset(&mem, 0, sizeof mem);
    dt_phys_reader pr = { rd, &mem, true };
    uint64_t va = UINT64_C(0xfffff80412345678);
    unsigned i4 = (va >> 39) & 0x1ff, i3 = (va >> 30) & 0x1ff, i2 = (va >> 21) & 0x1ff, i1 = (va >> 12) & 0x1ff;
    e64(&mem, 1, i4, 0x2003);
    e64(&mem, 2, i3, 0x3003);
    e64(&mem, 3, i2, 0x4003);
    e64(&mem, 4, i1, UINT64_C(0x8000000000abc003)); /* NX bit set */
    dt_vtop_result r;
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1002 /* PCID bits */, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0xabc678);
    ck_assert_uint_eq(r.page_size, 0x1000);
    /* transition (bit 11, not present) is read through; prototype (bit 10) is not */
    e64(&mem, 4, i1, 0xabc800);
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, va, &r), DT_VTOP_OK);
    ck_assert(r.transition);
    pr.allow_transition = false;
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, va, &r), DT_VTOP_NOT_PRESENT);
    pr.allow_transition = true;
    e64(&mem, 4, i1, 0xabcc00);
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, va, &r), DT_VTOP_NOT_PRESENT);
    /* 2 MiB */
    e64(&mem, 3, i2, 0x40000083);
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x40000000 | (va & 0x1fffff));
    ck_assert_uint_eq(r.page_size, 0x200000);
    /* 1 GiB */
    e64(&mem, 2, i3, UINT64_C(0x1c0000083));
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, UINT64_C(0x1c0000000) | (va & 0x3fffffff));
    ck_assert_uint_eq(r.page_size, UINT64_C(0x40000000));
    /* table outside memory, non-canonical */
    e64(&mem, 1, i4, UINT64_C(0x7777000003));
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, va, &r), DT_VTOP_TABLE_MISSING);
    ck_assert_int_eq(dt_vtop_amd64(&pr, 0x1000, UINT64_C(0x0000900000000000), &r), DT_VTOP_BAD_ADDRESS);
}
END_TEST

START_TEST(x86_pae_and_classic)
{
    memset(&mem, 0, sizeof mem);
    dt_phys_reader pr = { rd, &mem, true };
    uint64_t va = 0x80123456;
    /* PAE: PDPT (4 entries, 32-byte aligned) in page 1 at +0x20 */
    e64(&mem, 1, 4 + (unsigned)((va >> 30) & 3), 0x2001);
    e64(&mem, 2, (va >> 21) & 0x1ff, 0x3003);
    e64(&mem, 3, (va >> 12) & 0x1ff, 0x55000003);
    dt_vtop_result r;
    ck_assert_int_eq(dt_vtop_x86_pae(&pr, 0x1020, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x55000456);
    e64(&mem, 2, (va >> 21) & 0x1ff, 0x00e00083);
    ck_assert_int_eq(dt_vtop_x86_pae(&pr, 0x1020, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x00e00000 | (va & 0x1fffff));
    /* classic: PD in page 4, PT in page 5, then a 4 MiB page */
    e32(&mem, 4, (va >> 22) & 0x3ff, 0x5003);
    e32(&mem, 5, (va >> 12) & 0x3ff, 0x12345003);
    ck_assert_int_eq(dt_vtop_x86(&pr, 0x4000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x12345456);
    e32(&mem, 4, (va >> 22) & 0x3ff, 0x01c00083);
    ck_assert_int_eq(dt_vtop_x86(&pr, 0x4000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x01c00000 | (va & 0x3fffff));
    ck_assert_uint_eq(r.page_size, 0x400000);
}
END_TEST

START_TEST(arm64_pages_and_blocks)
{
    memset(&mem, 0, sizeof mem);
    dt_phys_reader pr = { rd, &mem, false };
    uint64_t va = UINT64_C(0xfffff803f32de014);
    unsigned l0 = (va >> 39) & 0x1ff, l1 = (va >> 30) & 0x1ff, l2 = (va >> 21) & 0x1ff, l3 = (va >> 12) & 0x1ff;
    e64(&mem, 1, l0, 0x2003);
    e64(&mem, 2, l1, 0x3003);
    e64(&mem, 3, l2, 0x4003);
    e64(&mem, 4, l3, UINT64_C(0x00600000946aa703)); /* attrs + page */
    dt_vtop_result r;
    ck_assert_int_eq(dt_vtop_arm64(&pr, 0x1000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x946aa014);
    e64(&mem, 3, l2, 0x80000701); /* 2 MiB block */
    ck_assert_int_eq(dt_vtop_arm64(&pr, 0x1000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0x80000000 | (va & 0x1fffff));
    e64(&mem, 2, l1, 0xc0000701); /* 1 GiB block */
    ck_assert_int_eq(dt_vtop_arm64(&pr, 0x1000, va, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.pa, 0xc0000000 | (va & 0x3fffffff));
    e64(&mem, 2, l1, 0);
    ck_assert_int_eq(dt_vtop_arm64(&pr, 0x1000, va, &r), DT_VTOP_NOT_PRESENT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernel_vtop");
    TCase *tc = tcase_create("walkers");
    tcase_add_test(tc, amd64_pages);
    tcase_add_test(tc, x86_pae_and_classic);
    tcase_add_test(tc, arm64_pages_and_blocks);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
