/*
 * test_minidump_memory.c — the user-mode address space (memory/user_memory):
 * reads that cross adjacent ranges, gaps reported as missing, overlaps
 * resolved, ranges clipped at the end of the file, zero-copy mapping into
 * the dump, and reads of real stacks and module images through it.
 */
#include <stdint.h>
#include <string.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "base/mapped_file.h"
#include "base/user_memory.h"

static uint8_t bytes64[64];

static dt_view filled_file(void)
{
    for (int i = 0; i < 64; i++)
        bytes64[i] = (uint8_t)i;
    return dt_view_make(bytes64, sizeof bytes64);
}

START_TEST(reads_cross_adjacent_ranges_and_stop_at_gaps)
{
    dt_user_memory m;
    dt_user_memory_init(&m, filled_file(), 8);
    /* Added out of order on purpose. */
    ck_assert(dt_user_memory_add(&m, 0x1030, 8, 40));
    ck_assert(dt_user_memory_add(&m, 0x1000, 16, 0));
    ck_assert(dt_user_memory_add(&m, 0x1010, 16, 16));
    dt_user_memory_finish(&m);
    const dt_addrspace *as = dt_user_memory_addrspace(&m);
    ck_assert_uint_eq(m.count, 3);
    ck_assert_uint_eq(m.total_bytes, 40);

    uint8_t buf[32];
    ck_assert_uint_eq(dt_as_read(as, 0x1008, buf, 24), 24);
    for (int i = 0; i < 24; i++)
        ck_assert_uint_eq(buf[i], 8 + i);
    /* 0x1020..0x1030 was not captured: the read stops there. */
    ck_assert_uint_eq(dt_as_read(as, 0x1018, buf, 16), 8);
    ck_assert_uint_eq(dt_as_read(as, 0x1020, buf, 4), 0);
    ck_assert_uint_eq(dt_as_read(as, 0xFFF, buf, 4), 0);
    uint64_t q;
    ck_assert(dt_as_u64(as, 0x1030, &q));
    ck_assert_uint_eq(q, 0x2F2E2D2C2B2A2928ull);
    ck_assert(!dt_as_u64(as, 0x1034, &q));

    /* map is zero-copy: a pointer into the file, with what follows. */
    size_t avail = 0;
    const uint8_t *p = as->map(as->ctx, 0x1004, &avail);
    ck_assert_ptr_eq(p, bytes64 + 4);
    ck_assert_uint_eq(avail, 12);
    ck_assert_ptr_null(as->map(as->ctx, 0x1024, &avail));
    ck_assert_uint_eq(avail, 0);
    dt_user_memory_free(&m);
}
END_TEST

START_TEST(overlaps_are_trimmed_and_eof_clips)
{
    dt_user_memory m;
    dt_user_memory_init(&m, filled_file(), 4);
    ck_assert(dt_user_memory_add(&m, 0x1000, 16, 0));
    ck_assert(dt_user_memory_add(&m, 0x1000, 16, 0));   /* exact duplicate (a stack) */
    ck_assert(dt_user_memory_add(&m, 0x1008, 16, 48));  /* overlaps the tail */
    ck_assert(dt_user_memory_add(&m, 0x1004, 4, 32));   /* wholly inside */
    ck_assert(dt_user_memory_add(&m, 0x2000, 100, 40)); /* only 24 bytes in the file */
    ck_assert(dt_user_memory_add(&m, 0x3000, 8, 1000)); /* entirely beyond EOF */
    ck_assert(dt_user_memory_add(&m, UINT64_MAX - 3, 16, 0)); /* wraps: cut at 2^64 */
    dt_user_memory_finish(&m);
    ck_assert_uint_eq(m.overlaps_dropped, 3);
    ck_assert_uint_eq(m.clipped_bytes, 76 + 8 + 12);
    const dt_addrspace *as = dt_user_memory_addrspace(&m);
    uint8_t b[24];
    /* The first range keeps 0x1000..0x1010; the overlapping one continues. */
    ck_assert_uint_eq(dt_as_read(as, 0x1000, b, 24), 24);
    ck_assert_uint_eq(b[4], 4);
    ck_assert_uint_eq(b[15], 15);
    ck_assert_uint_eq(b[16], 56);
    ck_assert_uint_eq(b[23], 63);
    ck_assert_uint_eq(dt_as_read(as, 0x2000, b, 24), 24);
    ck_assert_uint_eq(dt_as_read(as, 0x2010, b, 24), 8);
    ck_assert_uint_eq(dt_as_read(as, 0x3000, b, 8), 0);
    ck_assert_uint_eq(dt_as_read(as, UINT64_MAX - 3, b, 8), 4);
    uint64_t v;
    ck_assert(dt_as_ptr(as, 0x1000, &v));
    ck_assert_uint_eq(v, 0x03020100);
    dt_user_memory_free(&m);
}
END_TEST

START_TEST(empty_index_reads_nothing)
{
    dt_user_memory m;
    dt_user_memory_init(&m, dt_view_make(NULL, 0), 8);
    ck_assert(dt_user_memory_add(&m, 0x1000, 16, 0));
    dt_user_memory_finish(&m);
    uint8_t b[4];
    ck_assert_uint_eq(m.count, 0);
    ck_assert_uint_eq(dt_as_read(dt_user_memory_addrspace(&m), 0x1000, b, 4), 0);
    dt_user_memory_free(&m);
}
END_TEST

START_TEST(real_stack_reads_match_file_bytes)
{
    dt_mapped_file f;
    dt_minidump *md;
    ck_assert(dt_mapped_file_open(&f, dt_test_data("user/breakpad__minidump2.dmp"), NULL) == DT_OK);
    ck_assert(dt_minidump_parse(f.view, &md, NULL) == DT_OK);
    const dt_addrspace *as = dt_minidump_addrspace(md);
    ck_assert_uint_eq(as->pointer_size, 4);
    const dt_md_thread *t = &md->threads[0];
    uint64_t esp;
    ck_assert(dt_ctx_get(&t->context, DT_X86_ESP, &esp));
    uint32_t word;
    ck_assert(dt_as_u32(as, esp, &word));
    ck_assert_uint_eq(word, dt_le32(f.view.data + t->stack_rva + (esp - t->stack_start)));
    /* The whole stack reads back; one byte past its top does not. */
    uint8_t buf[0xce4 + 1];
    ck_assert_uint_eq(dt_as_read(as, t->stack_start, buf, sizeof buf), 0xce4);
    ck_assert_int_eq(memcmp(buf, f.view.data + t->stack_rva, 0xce4), 0);
    /* The MemoryList range of code around the crash address. */
    ck_assert_uint_eq(dt_as_read(as, 0x7c90eb14, buf, 0x100), 0x100);
    dt_minidump_free(md);
    dt_mapped_file_close(&f);
}
END_TEST

START_TEST(full_memory_dump_maps_images_without_copying)
{
    dt_mapped_file f;
    dt_minidump *md;
    ck_assert(dt_mapped_file_open(&f, dt_test_data("wine/multi_hang.dmp.gz"), NULL) == DT_OK);
    ck_assert(dt_minidump_parse(f.view, &md, NULL) == DT_OK);
    ck_assert(md->has_memory64);
    const dt_addrspace *as = dt_minidump_addrspace(md);
    size_t avail = 0;
    const uint8_t *p = as->map(as->ctx, 0x140000000, &avail);
    ck_assert_ptr_nonnull(p);
    ck_assert(p >= f.view.data && p + avail <= f.view.data + f.view.size);
    ck_assert(avail >= 0x1000);
    ck_assert_int_eq(memcmp(p, "MZ", 2), 0);
    uint32_t lfanew, sig;
    ck_assert(dt_as_u32(as, 0x140000000 + 0x3C, &lfanew));
    ck_assert(dt_as_u32(as, 0x140000000 + lfanew, &sig));
    ck_assert_uint_eq(sig, 0x4550); /* "PE\0\0" */

    /* Somewhere two captured ranges touch: a read across the seam works,
     * and equals the two pieces read apart. */
    bool crossed = false;
    for (size_t i = 0; i + 1 < md->memory.count && !crossed; i++) {
        const dt_user_range *a = &md->memory.ranges[i], *b = &md->memory.ranges[i + 1];
        if (a->start + a->size != b->start || a->size < 8 || b->size < 8)
            continue;
        uint8_t buf[16];
        ck_assert_uint_eq(dt_as_read(as, b->start - 8, buf, 16), 16);
        ck_assert_int_eq(memcmp(buf, f.view.data + a->rva + a->size - 8, 8), 0);
        ck_assert_int_eq(memcmp(buf + 8, f.view.data + b->rva, 8), 0);
        crossed = true;
    }
    ck_assert(crossed);
    /* And where they do not touch, the read stops at the gap. */
    for (size_t i = 0; i + 1 < md->memory.count; i++) {
        const dt_user_range *a = &md->memory.ranges[i], *b = &md->memory.ranges[i + 1];
        if (a->start + a->size < b->start) {
            uint8_t buf[16];
            ck_assert_uint_eq(dt_as_read(as, a->start + a->size - 4, buf, 16), 4);
            break;
        }
    }
    dt_minidump_free(md);
    dt_mapped_file_close(&f);
}
END_TEST

static Suite *memory_suite(void)
{
    Suite *s = suite_create("minidump_memory");
    TCase *tc = tcase_create("user memory");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reads_cross_adjacent_ranges_and_stop_at_gaps);
    tcase_add_test(tc, overlaps_are_trimmed_and_eof_clips);
    tcase_add_test(tc, empty_index_reads_nothing);
    tcase_add_test(tc, real_stack_reads_match_file_bytes);
    tcase_add_test(tc, full_memory_dump_maps_images_without_copying);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(memory_suite)
