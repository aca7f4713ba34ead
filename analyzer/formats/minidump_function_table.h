/*
 * minidump_function_table.h — the minidump FunctionTable stream (type 13):
 * the dynamic function tables a process registered for generated code
 * (RtlAddFunctionTable, RtlInstallFunctionTableCallback — .NET, V8), each a
 * code range with its RUNTIME_FUNCTION entries, so that JIT frames can be
 * unwound with their UNWIND_INFO instead of scanned (layout, from
 * Microsoft's minidumpapiset.h documentation: the
 * stream is MINIDUMP_FUNCTION_TABLE_STREAM, then per table a
 * MINIDUMP_FUNCTION_TABLE_DESCRIPTOR, the native DYNAMIC_FUNCTION_TABLE of
 * SizeOfNativeDescriptor bytes, EntryCount entries of SizeOfFunctionEntry
 * bytes and SizeOfAlignPad bytes; the header is followed by its own pad).
 *
 * A separate file from minidump_streams.c on purpose (one stream, one
 * reader).  Every size and count comes from the file and is checked.
 */
#ifndef DT_FORMATS_MINIDUMP_FUNCTION_TABLE_H
#define DT_FORMATS_MINIDUMP_FUNCTION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/view.h"

#define DT_MD_STREAM_FUNCTION_TABLE 13
/* More tables or entries than any process registers; larger claims are
 * cut with a warning. */
#define DT_MD_MAX_FUNCTION_TABLES 4096
#define DT_MD_MAX_FUNCTION_ENTRIES (1u << 20)

typedef struct {
    uint64_t min_address;   /* the code range the table covers */
    uint64_t max_address;
    uint64_t base_address;  /* entries' RVAs are relative to this */
    uint32_t entry_count;   /* entries present in the stream */
    dt_view entries;        /* entry_count * entry_size bytes; borrows the dump */
    dt_view native;         /* the DYNAMIC_FUNCTION_TABLE as written */
} dt_md_function_table;

typedef struct {
    dt_md_function_table *tables; /* owned */
    size_t count;
    uint32_t entry_size;          /* 12 for x64 RUNTIME_FUNCTION */
} dt_md_function_tables;

/* An x64 RUNTIME_FUNCTION of a table (RVAs from base_address). */
typedef struct {
    uint32_t begin, end, unwind_info;
} dt_md_runtime_function;

/* Parses the stream's bytes.  Problems that leave something usable are
 * warnings (w may be NULL); a header that is not one is DT_ERR_FORMAT.
 * Free with dt_md_function_tables_free. */
dt_status dt_md_function_tables_parse(dt_view stream, dt_md_function_tables *out, dt_warnings *w, dt_error *err);
void dt_md_function_tables_free(dt_md_function_tables *t);

/* The table whose range holds addr, or NULL. */
const dt_md_function_table *dt_md_function_table_for(const dt_md_function_tables *t, uint64_t addr);
/* Entry i of a table (x64 layout); false when out of range or not x64-sized. */
bool dt_md_function_table_entry(const dt_md_function_tables *t, const dt_md_function_table *tab, uint32_t i,
                                dt_md_runtime_function *out);

#endif
