/*
 * test_minidump_function_table.c — the FunctionTable stream reader
 * (formats/minidump_function_table.c) on the real stream of the Electron
 * 1.4.3 dump (node-minidump): V8 registered one table for its code range
 * 0x1fcaa00000–0x1feaa00000 with one RUNTIME_FUNCTION covering all of it
 * (begin 0, end 0x20000000, UNWIND_INFO at +0xc) — values read with a
 * byte-level Python dump of the stream.  Then damaged copies: a huge table
 * count, entries past the stream's end, an inverted range, a bad header.
 */
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "formats/minidump_function_table.h"

static dt_view function_table_stream(const dt_minidump *md)
{
    for (size_t i = 0; i < md->nstreams; i++)
        if (md->streams[i].type == DT_MD_STREAM_FUNCTION_TABLE && md->streams[i].in_file) {
            dt_view v;
            ck_assert(dt_view_sub(md->file, md->streams[i].rva, md->streams[i].size, &v));
            return v;
        }
    ck_abort_msg("no FunctionTable stream");
    return dt_view_make(NULL, 0);
}

START_TEST(electron_v8_table)
{
    size_t n;
    unsigned char *b = dt_test_read_file(dt_test_data("user/node-minidump__windows.dmp"), &n);
    ck_assert_ptr_nonnull(b);
    dt_minidump *md = NULL;
    ck_assert(dt_minidump_parse(dt_view_make(b, n), &md, NULL) == DT_OK);
    dt_view st = function_table_stream(md);
    ck_assert_uint_eq(st.size, 188);
    dt_md_function_tables t;
    dt_warnings w = { 0 };
    ck_assert(dt_md_function_tables_parse(st, &t, &w, NULL) == DT_OK);
    ck_assert_uint_eq(w.count, 0);
    ck_assert_uint_eq(t.count, 1);
    ck_assert_uint_eq(t.entry_size, 12);
    const dt_md_function_table *tab = dt_md_function_table_for(&t, 0x1fcaa01234ull);
    ck_assert_ptr_nonnull(tab);
    ck_assert_uint_eq(tab->min_address, 0x1fcaa00000ull);
    ck_assert_uint_eq(tab->max_address, 0x1feaa00000ull);
    ck_assert_uint_eq(tab->base_address, 0x1fcaa00000ull);
    ck_assert_uint_eq(tab->entry_count, 1);
    ck_assert_uint_eq(tab->native.size, 0x70);
    dt_md_runtime_function rf;
    ck_assert(dt_md_function_table_entry(&t, tab, 0, &rf));
    ck_assert_uint_eq(rf.begin, 0);
    ck_assert_uint_eq(rf.end, 0x20000000);
    ck_assert_uint_eq(rf.unwind_info, 0xc);
    ck_assert(!dt_md_function_table_entry(&t, tab, 1, &rf));
    ck_assert_ptr_null(dt_md_function_table_for(&t, 0x1feaa00000ull));
    dt_md_function_tables_free(&t);

    /* damaged copies of the real stream */
    unsigned char *c = malloc(st.size);
    ck_assert_ptr_nonnull(c);
    memcpy(c, st.data, st.size);
    uint32_t huge = 0xffffffffu;
    memcpy(c + 16, &huge, 4); /* NumberOfDescriptors */
    ck_assert(dt_md_function_tables_parse(dt_view_make(c, st.size), &t, &w, NULL) == DT_OK);
    ck_assert_uint_eq(t.count, 1);   /* the one real table, then truncation */
    ck_assert_uint_eq(w.count, 2);   /* the claim is cut; table 2 is missing */
    dt_md_function_tables_free(&t);
    memcpy(c, st.data, st.size);
    memcpy(c + 28 + 24, &huge, 4);   /* EntryCount */
    ck_assert(dt_md_function_tables_parse(dt_view_make(c, st.size), &t, &w, NULL) == DT_OK);
    ck_assert_uint_eq(t.count, 0);
    ck_assert_uint_eq(w.count, 3);
    dt_md_function_tables_free(&t);
    memcpy(c, st.data, st.size);
    uint64_t lo = 1;
    memcpy(c + 28 + 8, &lo, 8);      /* MaximumAddress below MinimumAddress */
    ck_assert(dt_md_function_tables_parse(dt_view_make(c, st.size), &t, &w, NULL) == DT_OK);
    ck_assert_uint_eq(t.count, 0);
    ck_assert_uint_eq(w.count, 4);
    dt_md_function_tables_free(&t);
    ck_assert(dt_md_function_tables_parse(dt_view_make(c, 20), &t, &w, NULL) == DT_ERR_FORMAT);
    memcpy(c, st.data, st.size);
    memcpy(c + 12, &huge, 4);        /* SizeOfFunctionEntry */
    ck_assert(dt_md_function_tables_parse(dt_view_make(c, st.size), &t, &w, NULL) == DT_ERR_FORMAT);
    free(c);
    dt_warnings_free(&w);
    dt_minidump_free(md);
    free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("minidump_function_table");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, electron_v8_table);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
