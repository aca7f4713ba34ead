/*
 * test_kdbg_encoded.c — the encoded KDDEBUGGER_DATA64 of Windows 8+ x64 full
 * and bitmap dumps (#19; formats/kdbg.c dt_kdbg_decode_known, model/
 * kernel_dump.c).  The block is decoded without KiWaitNever/KiWaitAlways
 * from the two list heads the dump header holds in the clear.
 *
 *  - the decoder against the documented encoding (the inverse of
 *    dt_kdbg_decode, MemProcFS's formula): for every rotation (KiWaitNever's
 *    low byte 0..255) and random KiWaitNever/KiWaitAlways/block addresses,
 *    the block comes back byte for byte, equal to dt_kdbg_decode with the
 *    real values; wrong list heads decode nothing and leave the bytes alone;
 *  - full and bitmap dumps from the test-only writer (tests/support/
 *    kdump_writer.c) with the KDBG encoded: has_kdbg and kdbg_decoded, the
 *    block's fields, and the same processes and threads as the plain dump.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mapped_file.h"
#include "dt_test.h"
#include "formats/kdbg.h"
#include "kdump_writer.h"
#include "model/kernel_dump.h"

static uint64_t rnd(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x ^ (*x >> 29);
}

/* The encoding as Windows applies it (the inverse of dt_kdbg_decode). */
static void encode(uint8_t *buf, size_t n, uint64_t never, uint64_t always, uint64_t va)
{
    unsigned r = (unsigned)(never & 0xFF) % 64;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, buf + i, 8);
        w = __builtin_bswap64(w ^ always) ^ va;
        w = r ? (w >> r) | (w << (64 - r)) : w;
        w ^= never;
        memcpy(buf + i, &w, 8);
    }
}

static void plain_block(uint8_t *b, uint64_t *x, uint64_t loaded, uint64_t active)
{
    for (size_t i = 0; i < 0x380; i += 8) {
        uint64_t v = rnd(x);
        memcpy(b + i, &v, 8);
    }
    uint32_t tag = DT_KDBG_TAG, size = 0x380;
    memcpy(b + 0x10, &tag, 4);
    memcpy(b + 0x14, &size, 4);
    memcpy(b + 0x48, &loaded, 8);
    memcpy(b + 0x50, &active, 8);
}

START_TEST(decodes_every_rotation)
{
    uint64_t x = 0x19;
    for (unsigned low = 0; low < 256; low++) {
        uint8_t plain[0x380], enc[0x380], ref[0x380];
        uint64_t loaded = 0xfffff8047c62a2b0ull + (rnd(&x) & 0xff0), active = 0xfffff8047c61f0a0ull;
        plain_block(plain, &x, loaded, active);
        uint64_t never = (rnd(&x) & ~(uint64_t)0xFF) | low, always = rnd(&x), va = 0xfffff8047c600b20ull;
        memcpy(enc, plain, sizeof enc);
        encode(enc, sizeof enc, never, always, va);
        ck_assert_int_ne(memcmp(enc, plain, sizeof enc), 0);
        memcpy(ref, enc, sizeof ref);
        dt_kdbg_decode(ref, sizeof ref, never, always, va);
        ck_assert_int_eq(memcmp(ref, plain, sizeof ref), 0); /* the writer's encoding is the documented one */
        ck_assert(dt_kdbg_decode_known(enc, sizeof enc, loaded, active));
        ck_assert_msg(memcmp(enc, plain, sizeof enc) == 0, "KiWaitNever low byte %u", low);
    }
}
END_TEST

START_TEST(wrong_heads_decode_nothing)
{
    uint64_t x = 0x77;
    uint8_t plain[0x380], enc[0x380], copy[0x380];
    uint64_t loaded = 0xfffff8047c62a2b0ull, active = 0xfffff8047c61f0a0ull;
    plain_block(plain, &x, loaded, active);
    memcpy(enc, plain, sizeof enc);
    encode(enc, sizeof enc, 0x1234567890abcd2bull, 0x0fedcba987654321ull, 0xfffff8047c600b20ull);
    memcpy(copy, enc, sizeof copy);
    ck_assert(!dt_kdbg_decode_known(enc, sizeof enc, loaded + 0x1000, active));
    ck_assert(!dt_kdbg_decode_known(enc, sizeof enc, loaded, active + 8));
    ck_assert(!dt_kdbg_decode_known(enc, sizeof enc, 0, active));
    ck_assert(!dt_kdbg_decode_known(enc, 0x50, loaded, active)); /* too short to hold +0x50 */
    ck_assert_int_eq(memcmp(enc, copy, sizeof enc), 0);
    /* the plain block itself parses as it is */
    dt_kdbg k;
    ck_assert_int_eq(dt_kdbg_parse(dt_view_make(plain, sizeof plain), &k, NULL), DT_OK);
}
END_TEST

static const uint64_t frames[] = { DT_KW_NT_BASE + 0x3f1000, DT_KW_NT_BASE + 0x2b0a10, DT_KW_NT_BASE + 0x40a1b5 };
static const dt_kw_thread app_threads[] = {
    { 0x24, 5, 6, 1, false, 0x1000, DT_KW_NT_BASE + 0x225870, frames, 3, -1, 1, 0, false, false, NULL, 0 },
    { 0x28, 5, 4, 1, true, 0x2000, DT_KW_NT_BASE + 0x225870, frames, 3, -1, 1, 0, false, false, NULL, 0 },
};
static const dt_kw_thread sys_threads[] = {
    { 0x108, 5, 15, 0, false, 0x10, DT_KW_NT_BASE + 0x225870, frames, 3, -1, 4, 0, false, false, NULL, 0 },
};
static const dt_kw_process procs[] = {
    { 4, "System", sys_threads, 1 },
    { 0x20, "hello_block.ex", app_threads, 2 },
};

static void open_case(dt_kw_layout layout, bool encoded, uint64_t never)
{
    dt_kw_system s = { 0 };
    s.build = 19041;
    s.processors = 2;
    s.bugcheck_code = 0x161;
    s.attributes = 0x10;
    s.processes = procs;
    s.process_count = 2;
    s.current_process = 1;
    dt_kw_physical o = { layout, false, false, 0 };
    char path[] = "/tmp/dt_kdbg_enc_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(encoded ? dt_kw_write_physical_kdbg_encoded(&s, &o, never, 0x5a5aa5a5deadbeefull, path)
                             : dt_kw_write_physical(&s, &o, path),
                     0);
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&f, path, &err), DT_OK);
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(f.view, NULL, &kd, &err), DT_OK);
    ck_assert(kd.has_kdbg);
    ck_assert_int_eq(kd.kdbg_encoded, encoded);
    ck_assert_int_eq(kd.kdbg_decoded, encoded);
    ck_assert_uint_eq(kd.kdbg.size, 0x380);
    ck_assert_uint_eq(kd.kdbg.kern_base, DT_KW_NT_BASE);
    ck_assert_uint_eq(kd.kdbg.ps_loaded_module_list, kd.header.ps_loaded_module_list);
    ck_assert_uint_eq(kd.kdbg.ps_active_process_head, kd.header.ps_active_process_head);
    ck_assert_uint_eq(kd.kdbg.pte_base, 0xfffffd8000000000ull);
    ck_assert_uint_eq(kd.kdbg.kthread_wait_reason, 0x283);
    for (size_t i = 0; i < kd.warnings.count; i++)
        ck_assert_msg(!strstr(kd.warnings.items[i], "encoded"), "%s", kd.warnings.items[i]);
    ck_assert_uint_eq(kd.process_count, 2);
    ck_assert_uint_eq(kd.processes[1].pid, 0x20);
    ck_assert_uint_eq(kd.processes[1].thread_count, 2);
    ck_assert_ptr_nonnull(dt_kernel_dump_find_thread(&kd, 0x20, 0x28));
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
    unlink(path);
}

START_TEST(full_dump_encoded) { open_case(DT_KW_FULL, true, 0x8d3f1e2a7c6b5a2bull); }
END_TEST
START_TEST(bitmap_dump_encoded) { open_case(DT_KW_BITMAP_KERNEL, true, 0x11223344556677c0ull); }
END_TEST
START_TEST(full_dump_plain) { open_case(DT_KW_FULL, false, 0); }
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kdbg_encoded");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, decodes_every_rotation);
    tcase_add_test(tc, wrong_heads_decode_nothing);
    tcase_add_test(tc, full_dump_encoded);
    tcase_add_test(tc, bitmap_dump_encoded);
    tcase_add_test(tc, full_dump_plain);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
