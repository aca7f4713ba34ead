/*
 * function_table_writer.h — test-only: appends a FunctionTable stream
 * (type 13: MINIDUMP_FUNCTION_TABLE_STREAM, then per table a
 * MINIDUMP_FUNCTION_TABLE_DESCRIPTOR, the native x64 DYNAMIC_FUNCTION_TABLE
 * and its RUNTIME_FUNCTION entries, as dbghelp writes them for tables
 * registered with RtlAddFunctionTable) to a copy of a real dump.  Wine's
 * MiniDumpWriteDump writes no FunctionTable stream, so the generated-code
 * tests add one built from the table the program logged
 * (wine/logs/inline_jit.out).  Written from the documented structures
 * (minidumpapiset.h, winnt.h); not a writer the analyzer uses.
 */
#ifndef DT_TEST_FUNCTION_TABLE_WRITER_H
#define DT_TEST_FUNCTION_TABLE_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t base;                 /* BaseAddress: entries are RVAs from it */
    uint64_t min_address, max_address;
    const uint32_t (*entries)[3];  /* BeginAddress, EndAddress, UnwindData */
    uint32_t count;
    uint32_t claimed_count;        /* non-zero: EntryCount as written (bad input) */
} dt_test_function_table;

/* A malloc'ed copy of dump with the stream appended and the stream
 * directory moved to the end (one entry longer); NULL on a dump whose
 * header cannot be read. */
uint8_t *dt_test_add_function_table_stream(const uint8_t *dump, size_t size, const dt_test_function_table *t,
                                           size_t n, size_t *out_size);

#endif
